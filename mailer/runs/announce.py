"""Announcements sent at once: every member one copy, crash-safely, as bulk mail.

The fan-out is the digest's (mailer/outbound/fanout.py): a batch's AnnouncementDelivery rows,
unique per (announcement, member), commit with its outbox rows; an announcement whose
fan-out has not finished (`sent` is empty) is taken up again by the next run, by
`lets serve` within a minute or by `lets announce --resume`.
"""
from __future__ import annotations

from db import announcements as queries
from db.models import Announcement, AnnouncementDelivery

from ..message import bulkmime
from ..message.compose import Composer, now_utc
from ..message.subaddress import bulk_envelope, plus_address
from ..outbound import fanout


def compose(settings, composer: Composer, announcement: Announcement, member, fragments):
    headers, mail_from = bulk_envelope(settings, member.address_id)
    # The administrator's text is data, never a template: it is only ever a variable's
    # value, so {{ … }} in it stays as written, and the HTML layout escapes it.
    context = {"member": member, "subject": announcement.subject, "body": announcement.body,
               "unsubscribe": plus_address(settings, "u", member.address_id)}
    return bulkmime.compose(composer, "announce/announcement", member.language, context, to=member.email,
                            kind="announcement", headers=headers, mail_from=mail_from, fragments=fragments)


def send(settings, announcement: Announcement, composer: Composer | None = None, clock=now_utc,
         sender: fanout.Sender | None = None, on_batch=lambda count: None) -> int:
    """Queue (and with a sender, send) the announcement to every member who has not had it."""
    composer = composer or Composer(settings)
    fragments = bulkmime.Fragments()
    after, queued = 0, 0
    while True:
        recipients = queries.due(announcement, after, settings.digest.batch)
        if not recipients:
            break
        after = recipients[-1].id
        outgoing = [compose(settings, composer, announcement, member, fragments) for member in recipients]
        now = clock()
        fanout.queue_batch(AnnouncementDelivery, [
            {"announcement": announcement.id, "member": m.id, "outbound_key": o.key, "created": now}
            for m, o in zip(recipients, outgoing)], outgoing, now, sender=sender)
        if sender is not None:
            sender.send(outgoing, now)
        queued += len(outgoing)
        on_batch(len(outgoing))
    if sender is not None:
        sender.flush()
    Announcement.update(sent=clock()).where(Announcement.id == announcement.id).execute()
    return queued


def send_unsent(settings, now, composer: Composer | None = None, sender: fanout.Sender | None = None,
                on_batch=lambda count: None) -> int:
    """Finish every announcement meant to go at once: new ones, and ones a crash cut short."""
    return sum(send(settings, row, composer, clock=lambda: now, sender=sender, on_batch=on_batch)
               for row in queries.unsent())
