"""Expiry warnings and last notices, at most one per listing per week; run by the serve worker."""
import datetime as dt
import email
import email.policy
from pathlib import Path

from db.models import DigestDelivery, Listing, OutboundMessage
from mailer.runs.expiry import warn_expiring
from mailer.worker import Worker


def test_poster_is_warned_before_expiry_then_told_once_it_expired_never_twice_a_week(group, an):
    group.mail("an@example.org", "AANBOD: Soep koken", "Geldig tot: 2026-12-05\n")
    listing = Listing.get()
    now = dt.datetime(2026, 11, 29, 8, 0)          # 6 days before: within warn_days (7)
    assert warn_expiring(group.settings, now, group.processor.composer) == 1
    warning = group.last("an@example.org")
    assert warning.subject == f"Verloopt op 5 december 2026: Soep koken [{listing.id}]"
    assert f"VERLENG {listing.id}" in warning.text
    assert warn_expiring(group.settings, now + dt.timedelta(days=1), group.processor.composer) == 0
    # Expired on the 6th, but the warning was less than a week ago: the notice waits.
    assert warn_expiring(group.settings, dt.datetime(2026, 12, 6, 7), group.processor.composer) == 0
    assert warn_expiring(group.settings, dt.datetime(2026, 12, 6, 9), group.processor.composer) == 1
    notice = group.last("an@example.org")
    assert notice.subject == f"Verlopen: Soep koken [{listing.id}]"
    assert Listing.get().status == "expired"
    assert warn_expiring(group.settings, dt.datetime(2026, 12, 20), group.processor.composer) == 0


def delivered_digests(group):
    """Recipients of the digests in the Maildir: sent bulk mail keeps no copy in the outbox."""
    folder = Path(group.settings.outbound.maildir) / "new"
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
             for path in sorted(folder.glob("*"))] if folder.exists() else []
    return sorted(str(m["To"]) for m in mails if m["List-Id"])


def test_serve_worker_sends_due_digests_on_its_schedule(group, an, sam):
    group.clock.now = dt.datetime(2026, 11, 29, 12, 0)   # the group starts on a Sunday
    worker = Worker(group.settings, processor=group.processor)
    worker.run_once()
    assert delivered_digests(group) == []
    group.clock.now = dt.datetime(2026, 11, 30, 6, 30)   # Monday 07:30 in Amsterdam
    worker.next_schedule = 0
    worker.run_once()
    assert delivered_digests(group) == ["an@example.org", "sam@example.org"]
    # Sent at once: the delivery rows record it, and nothing waits in the outbox.
    assert {row.state for row in DigestDelivery.select()} == {"sent"}
    assert not OutboundMessage.select().where(OutboundMessage.state != "sent").exists()
    worker.next_schedule = 0
    worker.run_once()
    assert len(delivered_digests(group)) == 2
