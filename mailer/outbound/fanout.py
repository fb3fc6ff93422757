"""Crash-safe fan-out of bulk mail: queue a batch, then send it at once; the Sender both use.

Announcements, and digests without a Sender, go through the outbox as below. Digests sent
at once keep no outbox copy: their delivery row is the record (mailer/outbound/digest_delivery.py).
Exactly once per member, in two steps:
1. Queue. A batch's delivery rows (unique per member and period or announcement) and its
   outbox rows commit in one transaction. A crash before the commit leaves nothing of the
   batch, and the restarted run, which asks only for members without a delivery row,
   builds it again; after the commit, the unique key keeps every member from a second one.
2. Send. With a `Sender` the rows are inserted already claimed by this run (state
   `sending` with a lease, as `outbox.claim` would) and sent from memory over parallel SMTP
   connections while the next batch is built, then marked sent in one UPDATE. A crash
   before that UPDATE leaves them
   claimed; when the lease runs out the ordinary outbox delivery sends them. So no member
   is left without the mail; the only duplicates possible are messages of the batch in
   flight (at most one, [digest] batch members) that the relay had accepted when the
   process died (SMTP cannot close
   that window: a 250 and our commit can never be one atomic step).
The raw copy of a bulk message that went out is cleared: it is needed only until then,
and 40 KB per member per week would grow the database by gigabytes.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from db import database
from db.models import OutboundMessage

from ..message.compose import Outgoing
from .dkim import Signer
from .outbox import LEASE, PermanentFailure, TemporaryFailure, crlf, transport_for


def queue_batch(delivery_model, deliveries: list[dict], outgoing: list[Outgoing], now, *,
                sender: "Sender | None" = None) -> None:
    """Commit a batch's delivery rows and outbox rows together (step 1); with a sender, claimed
    for it, and in the same commit what became of the batch it sent before (one fsync, not two)."""
    state, attempt = ("sending", now + LEASE) if sender is not None else ("queued", now)
    with database.atomic():
        if sender is not None:
            sender.flush()
        delivery_model.insert_many(deliveries).execute()
        OutboundMessage.insert_many([
            {"key": o.key, "message_id": o.message_id, "mail_from": o.mail_from, "recipient": o.recipient,
             "raw": o.raw, "kind": o.kind, "created": now, "next_attempt": attempt, "state": state,
             "attempts": 0, "last_error": ""} for o in outgoing]).execute()


class Sender:
    """Sends claimed batches over `connections` transports at once, one thread each.

    Parallel connections overlap one message's network wait with the next one's work
    (smtplib waits for each reply: MAIL, RCPT, DATA); one recipient per transaction,
    because every message is personal (its own unsubscribe token and return path)."""

    def __init__(self, settings, connections: int | None = None):
        self.settings = settings
        count = max(1, connections or settings.digest.connections)
        self.transports = [transport_for(settings) for _ in range(count)]
        self.signer = Signer(settings)
        self.pool = ThreadPoolExecutor(count, thread_name_prefix="lets-fanout")
        self.pending: tuple[list, object, object] = ([], None, None)
        self.accepted = 0

    def _send_chunk(self, transport, chunk: list[Outgoing]) -> list[tuple[Outgoing, Exception | None]]:
        results = []
        for message in chunk:
            try:
                transport.send(message, self.signer.sign(crlf(message.raw)))
                results.append((message, None))
            except (PermanentFailure, TemporaryFailure) as exc:
                results.append((message, exc))
        return results

    def send(self, outgoing: list[Outgoing], now, record=None) -> int:
        """Send a claimed batch (step 2) in the background; the number the relay accepted
        of the batch before, whose results are recorded now. The caller composes the next
        batch while this one goes out; `flush` waits for the last one. `record(results,
        now)` writes what became of the batch (default: its outbox rows)."""
        accepted = self.flush()
        count = len(self.transports)
        chunks = [outgoing[i::count] for i in range(count)]
        self.pending = ([self.pool.submit(self._send_chunk, t, c) for t, c in zip(self.transports, chunks) if c],
                        now, record or record_outbox)
        return accepted

    def flush(self) -> int:
        """Wait for the batch in flight and record what became of it; the number accepted."""
        futures, now, record = self.pending
        self.pending = ([], None, None)
        if not futures:
            return 0
        results = [item for future in futures for item in future.result()]
        with database.atomic():
            record(results, now)
        sent = sum(1 for _, error in results if error is None)
        self.accepted += sent
        return sent

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.pool.shutdown()
            for transport in self.transports:
                transport.close()


def record_outbox(results: list[tuple[Outgoing, Exception | None]], now) -> None:
    """What became of a batch queued in the outbox. Failures go back to the outbox, which
    retries them with its usual backoff."""
    sent = [m.key for m, error in results if error is None]
    for start in range(0, len(sent), 500):
        OutboundMessage.update(state="sent", sent_at=now, attempts=1, raw=b"").where(
            OutboundMessage.key.in_(sent[start:start + 500])).execute()
    for message, error in results:
        if isinstance(error, PermanentFailure):
            OutboundMessage.update(state="failed", attempts=1, last_error=str(error)[:2000], sent_at=now
                                   ).where(OutboundMessage.key == message.key).execute()
        elif error is not None:
            OutboundMessage.update(state="queued", attempts=1, last_error=str(error)[:2000],
                                   next_attempt=now).where(OutboundMessage.key == message.key).execute()


def sender_for(settings, deliver: bool = True) -> Sender | None:
    """A Sender, or None when bulk mail must wait in the outbox: not delivering now, or a
    rate limit that only the outbox delivery keeps."""
    if not deliver or settings.outbound.rate_per_minute > 0:
        return None
    return Sender(settings)
