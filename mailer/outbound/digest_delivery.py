"""Digests sent straight from memory: the DigestDelivery row, not an outbox copy, is the record.

A digest with 500 new listings is ~400 KB; a copy of each in the outbox before sending
would write gigabytes a run. Instead, exactly once per member:
1. Claim. A batch's DigestDelivery rows (unique per member and period) are inserted in
   one transaction in state `sending`, with a lease, and with the Message-ID the digest
   carries, made from member and period. A crash before this commit leaves nothing of
   the batch; after it, the unique key keeps every member from a second row.
2. Send. The batch goes out from memory (mailer/outbound/fanout.py `Sender`) while the next one
   is built; the result is recorded with the next batch's claim, in the same commit:
   `sent`; `failed` for a permanent refusal; a temporary failure hands the message to
   the outbox (state `outbox`), which retries it with its usual backoff.
3. Recover. A row still `sending` when its lease has run out belongs to a run that died:
   the next run of the period rebuilds that member's digest (its content is a function
   of member and period, its Message-ID the same) and sends it. A period's run is not
   finished while such rows remain, so `lets serve` comes back for them.
The only duplicates possible are messages of the batch in flight that the relay had
accepted when the process died (SMTP cannot close that window: a 250 and our commit
can never be one atomic step); they carry the same Message-ID, so mail programs that
deduplicate show one.
Without a Sender (`--no-deliver`, or an [outbound] rate limit that only the outbox
keeps) the digests are queued in the outbox as before (fanout.queue_batch), state `outbox`.
"""
from __future__ import annotations

import datetime as dt

from db.models import DigestDelivery, OutboundMessage

from ..message.compose import Outgoing
from .outbox import LEASE, PermanentFailure


def message_id(settings, member_id: int, period: str) -> str:
    """The digest's Message-ID: the same whenever the digest is built (RFC 5322 3.6.4)."""
    return f"<digest.{period.replace(':', '.')}.{member_id}@{settings.group.domain}>"


def claim(rows: list[dict], now: dt.datetime) -> None:
    """Insert a batch's delivery rows, held by this run until the lease runs out (step 1)."""
    DigestDelivery.insert_many([{**row, "state": "sending", "lease": now + LEASE} for row in rows]).execute()


def reclaim(period: str, member_ids: list[int], now: dt.datetime) -> set[int]:
    """Take over abandoned rows (step 3); the members whose row this run now holds.
    One conditional UPDATE a row, so two runs never both take the same one."""
    taken = set()
    for member_id in member_ids:
        if DigestDelivery.update(lease=now + LEASE).where(
                DigestDelivery.member == member_id, DigestDelivery.period == period,
                DigestDelivery.state == "sending", DigestDelivery.lease <= now).execute() == 1:
            taken.add(member_id)
    return taken


def give_up_abandoned(period: str, now: dt.datetime) -> int:
    """Rows still abandoned after recovery: the member has no usable address any more."""
    return DigestDelivery.update(state="failed", lease=None, error="no primary address to resend to").where(
        DigestDelivery.period == period, DigestDelivery.state == "sending", DigestDelivery.lease <= now).execute()


def unfinished(period: str) -> bool:
    return DigestDelivery.select().where(DigestDelivery.period == period, DigestDelivery.state == "sending").exists()


def record(results: list[tuple[Outgoing, Exception | None]], now: dt.datetime) -> None:
    """What became of a sent batch (step 2); called by the Sender inside a transaction."""
    sent = [m.message_id for m, error in results if error is None]
    for start in range(0, len(sent), 500):
        DigestDelivery.update(state="sent", sent=now, lease=None).where(
            DigestDelivery.message_id.in_(sent[start:start + 500])).execute()
    for message, error in results:
        if error is None:
            continue
        if isinstance(error, PermanentFailure):
            DigestDelivery.update(state="failed", lease=None, error=str(error)[:2000]).where(
                DigestDelivery.message_id == message.message_id).execute()
            continue
        to_outbox([message], now, attempts=1, error=str(error))


def to_outbox(outgoing: list[Outgoing], now: dt.datetime, attempts: int = 0, error: str = "") -> None:
    """Hand digests this run holds to the outbox, which sends and retries them from now on."""
    for message in outgoing:
        OutboundMessage.create(key=message.key, message_id=message.message_id, mail_from=message.mail_from,
                               recipient=message.recipient, raw=message.raw, kind=message.kind, created=now,
                               next_attempt=now, attempts=attempts, last_error=error[:2000])
        DigestDelivery.update(state="outbox", lease=None, outbound_key=message.key).where(
            DigestDelivery.message_id == message.message_id).execute()
