"""Digests sent at once keep no outbox copy: the delivery row is the record, and what a dead
run left unsent is rebuilt, the same mail with the same Message-ID."""
import datetime as dt
import email
import email.policy

from db.models import DigestDelivery, DigestRun, OutboundMessage
from mailer.outbound import digest_delivery
from mailer.runs.digest import Run, send_run
from mailer.outbound.fanout import Sender
from mailer.outbound.outbox import LEASE

from test_digest import MONDAY_AFTER, post

RUN = Run("weekly", "weekly:2026-11-30", dt.datetime(2026, 11, 30, 6, 0))


def maildir(settings):
    """Every message the Maildir transport wrote, parsed."""
    folder = settings.path(settings.outbound.maildir) / "new"
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.lets"))]


def send(group, at):
    sender = Sender(group.settings)
    try:
        return send_run(group.settings, RUN, group.processor.composer, clock=lambda: at, sender=sender)
    finally:
        sender.close()


def test_a_digest_sent_at_once_leaves_a_sent_delivery_row_and_no_outbox_copy(group, an, sam):
    post(group, "sam@example.org", "OFFER: Mowing lawns", "Category: tuin\n")
    before = OutboundMessage.select().count()
    assert send(group, MONDAY_AFTER) == 2
    assert OutboundMessage.select().count() == before
    rows = {row.member_id: row for row in DigestDelivery.select()}
    assert {row.state for row in rows.values()} == {"sent"} and len(rows) == 2
    received = {m["Delivered-To"]: m for m in maildir(group.settings)}
    assert received["an@example.org"]["Message-ID"] == rows[an.id].message_id
    assert "Mowing lawns" in received["an@example.org"].get_body(("plain",)).get_content()
    assert DigestRun.get().finished is not None


def test_digests_a_dead_run_claimed_are_rebuilt_with_the_same_message_id_once_the_lease_runs_out(
        group, an, sam, claire):
    post(group, "sam@example.org", "OFFER: Mowing lawns", "Category: tuin\n")
    # A run that died after claiming An's and Sam's digests, before recording them sent.
    DigestRun.create(period=RUN.period, cutoff=RUN.cutoff, started=MONDAY_AFTER)
    digest_delivery.claim([{"member": m.id, "period": RUN.period, "cutoff": RUN.cutoff, "created": MONDAY_AFTER,
                            "message_id": digest_delivery.message_id(group.settings, m.id, RUN.period)}
                           for m in (an, sam)], MONDAY_AFTER)

    # Restarted while the dead run's lease still holds: only Claire now, and the run stays open.
    assert send(group, MONDAY_AFTER) == 1
    assert [m["Delivered-To"] for m in maildir(group.settings)] == ["claire@example.org"]
    assert DigestRun.get().finished is None

    later = MONDAY_AFTER + LEASE
    assert send(group, later) == 2
    received = maildir(group.settings)
    assert sorted(m["Delivered-To"] for m in received) == ["an@example.org", "claire@example.org", "sam@example.org"]
    dutch = next(m for m in received if m["Delivered-To"] == "an@example.org")
    assert dutch["Message-ID"] == digest_delivery.message_id(group.settings, an.id, RUN.period)
    assert "Mowing lawns" in dutch.get_body(("plain",)).get_content()
    assert {row.state for row in DigestDelivery.select()} == {"sent"}
    assert DigestRun.get().finished == later
    assert send(group, later + LEASE) == 0


def test_a_digest_the_relay_defers_goes_to_the_outbox_to_be_retried(group, an, monkeypatch):
    from mailer.outbound.outbox import MaildirTransport, TemporaryFailure

    def refuse(self, row, raw=None):
        raise TemporaryFailure("451 try later")
    monkeypatch.setattr(MaildirTransport, "send", refuse)
    send(group, MONDAY_AFTER)
    row = DigestDelivery.get()
    assert row.state == "outbox"
    queued = OutboundMessage.get(OutboundMessage.key == row.outbound_key)
    assert queued.state == "queued" and queued.message_id == row.message_id and "451" in queued.last_error
    assert DigestRun.get().finished is not None
