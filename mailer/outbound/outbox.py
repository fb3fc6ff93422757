"""Delivering the outbox: into a local Maildir, or through an SMTP submission relay.

Rows are claimed with one conditional UPDATE (a lease), so several workers never send
the same message twice; a worker that dies mid-send leaves a lease that runs out and
the row is tried again.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import smtplib
import socket
from pathlib import Path

from db import tokens, write_transaction
from db.models import OutboundMessage
from db.prepared import prepared_insert

from .. import oauth2
from ..message.compose import Outgoing, now_utc
from ..connection_errors import in_words
from ..oauth2 import TokenError
from ..settings import Settings
from ..tls import client_context
from .dkim import Signer

log = logging.getLogger(__name__)

# Retry a temporary failure after [outbound] retry_seconds, doubling up to six hours, 12 times, then give up.
MAX_BACKOFF = dt.timedelta(hours=6)
GIVE_UP_AFTER = 12
# How long a claimed row stays with its worker before another may try it
# ([outbound] lease_seconds for a relay).
LEASE = dt.timedelta(minutes=10)
# The same for a round into a Maildir: writing files takes seconds, and a delivery
# repeated after the lease finds its file, so a server killed mid-round leaves its
# replies waiting for half a minute rather than ten.
IDEMPOTENT_LEASE = dt.timedelta(seconds=30)


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class RelayUnavailable(TemporaryFailure):
    """The relay could not be reached or refused our login: no point trying the next row."""


class DestinationUnavailable(TemporaryFailure):
    """The outbox Maildir cannot be written (a file in its place, its permissions, a full
    disk): the operator's to mend, not the messages'. The round stops, its rows wait due
    at once with the reason, their attempts not counted, and the deliverer tries again
    after a short back-off, so the replies go out within seconds of the fix."""


MAILDIR_ADVICE = ("make [outbound] maildir a folder this user may write to, or make room on its disk; "
                  "replies wait in the outbox meanwhile")


class MaildirTransport:
    """Writes each message as one file in `new/`; a retried delivery finds its file and stops."""

    # A delivery repeated after a crash finds its file: rows may be marked sent in batches.
    idempotent = True

    def __init__(self, path: Path):
        self.path = path
        try:
            for sub in ("tmp", "new", "cur"):
                (path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: OSError) -> DestinationUnavailable:
        return DestinationUnavailable(f"the outbox Maildir {self.path} cannot be written: "
                                      f"{exc.strerror or exc} ({exc.__class__.__name__})")

    def send(self, row: OutboundMessage, raw: bytes | None = None) -> None:
        name = f"{row.key}.lets"
        target = self.path / "new" / name
        temporary = self.path / "tmp" / name
        try:
            if target.exists() or self._read(name):
                return
            with open(temporary, "wb") as handle:
                handle.write(f"Return-Path: <{row.mail_from}>\r\nDelivered-To: {row.recipient}\r\n".encode())
                handle.write(bytes(row.raw) if raw is None else raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(temporary, target)
        except OSError as exc:
            # Whatever stops one file stops them all: the folder, its permissions, the disk.
            raise self._unavailable(exc) from exc

    def _read(self, name: str) -> bool:
        """Whether a mail reader moved the file to cur/ (as `name:2,flags`). Not Path.glob:
        it compiles a pattern for every name, which cost more than writing the file."""
        with os.scandir(self.path / "cur") as entries:
            return any(entry.name.startswith(name) for entry in entries)

    def close(self) -> None:
        pass


class SmtpTransport:
    """Hands messages to a relay, keeping one connection open for a batch."""

    # The relay cannot recognise a repeat: each row is marked sent as soon as the relay
    # took it, so a crash repeats at most the one message in flight.
    idempotent = False

    def __init__(self, settings: Settings):
        self.outbound = settings.outbound
        self.base_dir = settings.base_dir  # a relative token command runs from the settings' folder
        self.connection: smtplib.SMTP | None = None

    def _context(self):
        return client_context(self.outbound.verify_tls, self.outbound.ca_file)

    def _connect(self) -> smtplib.SMTP:
        out = self.outbound
        connection = None
        try:
            if out.implicit_tls or out.relay_port == 465:
                connection = smtplib.SMTP_SSL(out.relay_host, out.relay_port, timeout=30,
                                              context=self._context())
            else:
                connection = smtplib.SMTP(out.relay_host, out.relay_port, timeout=30)
                if out.starttls:
                    connection.starttls(context=self._context())
            if out.auth == "oauth2":
                self._oauth2_login(connection)
            elif out.relay_user:
                # smtplib picks PLAIN or LOGIN (or CRAM-MD5) from what the relay offers.
                connection.login(out.relay_user, out.relay_password)
            connection.ehlo_or_helo_if_needed()
        except (smtplib.SMTPException, OSError, TokenError) as exc:
            if connection is not None:
                connection.close()
            # A refused login is our configuration, not the message: keep the mail queued.
            raise RelayUnavailable(f"{out.relay_host}:{out.relay_port}: {in_words(exc)}") from exc
        return connection

    def _oauth2_login(self, connection: smtplib.SMTP) -> None:
        out = self.outbound
        access = oauth2.token(out.token_command, "[outbound] token_command", cwd=self.base_dir)
        initial = oauth2.xoauth2(out.relay_user, access)
        connection.ehlo_or_helo_if_needed()  # login() does it itself, auth() does not
        # On a refused token the server sends a 334 with its reason and waits for an
        # empty line before its 535 (Google's XOAUTH2 protocol): answer the challenge so.
        connection.auth("XOAUTH2", lambda challenge=None: initial if challenge is None else "")

    def connect(self) -> None:
        """Connect and log in unless connected: RelayUnavailable says why not."""
        if self.connection is None:
            self.connection = self._connect()

    def send(self, row: OutboundMessage, raw: bytes | None = None) -> None:
        self.connect()
        raw = bytes(row.raw) if raw is None else raw
        try:
            if self.connection.has_extn("pipelining") and (row.mail_from + row.recipient).isascii():
                _send_pipelined(self.connection, row.mail_from, row.recipient, raw)
            else:
                self.connection.sendmail(row.mail_from, [row.recipient], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {text!r}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise (PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure)(
                f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            self.close()
            raise TemporaryFailure(in_words(exc)) from exc

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self.connection.close()  # a quit() that raised may have left the socket open
            self.connection = None


def _send_pipelined(connection: smtplib.SMTP, mail_from: str, recipient: str, raw: bytes) -> None:
    """One message in two round trips instead of four: MAIL, RCPT and DATA in one write
    (RFC 2920), then the content. Errors are smtplib's, as `sendmail` raises them."""
    connection.send(f"MAIL FROM:<{mail_from}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n")
    (mail, mail_text), (rcpt, rcpt_text), (data, data_text) = (connection.getreply() for _ in range(3))
    if data == 354 and (mail != 250 or rcpt not in (250, 251)):
        # A server that started DATA although it refused the sender or recipient: send nothing.
        connection.send(b".\r\n")
        connection.getreply()
    if mail != 250:
        connection.rset()
        raise smtplib.SMTPSenderRefused(mail, mail_text, mail_from)
    if rcpt not in (250, 251):
        connection.rset()
        raise smtplib.SMTPRecipientsRefused({recipient: (rcpt, rcpt_text)})
    if data != 354:
        connection.rset()
        raise smtplib.SMTPDataError(data, data_text)
    # Dot-stuffing and the end of data (RFC 5321 4.5.2), as smtplib's data() does.
    body = re.sub(rb"(?m)^\.", b"..", raw)
    connection.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    code, text = connection.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, text)


def transport_for(settings: Settings):
    if settings.outbound.mode == "smtp":
        return SmtpTransport(settings)
    return MaildirTransport(settings.path(settings.outbound.maildir))


def crlf(raw: bytes) -> bytes:
    """SMTP lines end in CRLF (RFC 5321 2.3.8); smtplib sends bytes as they are, and a
    relay reads a message with bare LFs as one overlong line. DKIM signs this form too."""
    if raw.count(b"\n") == raw.count(b"\r\n"):   # already CRLF (bulk mail is built so): no copy
        return raw
    return re.sub(rb"\r?\n", b"\r\n", raw)


def due(now, limit: int):
    """Rows to try now: queued and due, or claimed by a worker whose lease ran out."""
    return (OutboundMessage.select()
            .where(OutboundMessage.state.in_(("queued", "sending")), OutboundMessage.next_attempt <= now)
            .order_by(OutboundMessage.id).limit(limit))


def claim(row: OutboundMessage, now, lease: dt.timedelta = LEASE) -> bool:
    """Take the row for this worker; False when another worker took it first."""
    with write_transaction():
        return row.id in claim_many([row.id], now, lease)


def claim_many(ids: list[int], now, lease: dt.timedelta) -> set[int]:
    """`claim` for a round in one statement: the ids this worker now holds."""
    query = OutboundMessage.update(state="sending", next_attempt=now + lease).where(
        OutboundMessage.id.in_(ids), OutboundMessage.state.in_(("queued", "sending")),
        OutboundMessage.next_attempt <= now).returning(OutboundMessage.id)
    return {row.id for row in query.execute()}


def allowance(settings: Settings, now, limit: int) -> int:
    """How many may go now under [outbound] rate_per_minute, counted over all workers."""
    rate = settings.outbound.rate_per_minute
    if rate <= 0:
        return limit
    recent = OutboundMessage.select().where(OutboundMessage.state == "sent",
                                            OutboundMessage.sent_at > now - dt.timedelta(minutes=1)).count()
    return max(0, min(limit, rate - recent))


def deliver_pending(settings: Settings, transport=None, limit: int = 200, clock=now_utc) -> int:
    """Send what is due in the outbox; the number sent."""
    now = clock()
    limit = allowance(settings, now, limit)
    rows = list(due(now, limit)) if limit else []
    if not rows:
        return 0
    own = transport is None
    try:
        transport = transport or transport_for(settings)
    except DestinationUnavailable as exc:
        _hold([row.id for row in rows], exc, now, claimed=False)
        raise
    signer = Signer(settings)
    secret = settings.secret()
    batched = getattr(transport, "idempotent", False)
    if batched:
        # One transaction (one fsync) claims the whole round; the conditional UPDATEs
        # still skip rows another worker holds. A relay is slow: there each row is
        # claimed just before it is sent, so its lease cannot run out while it waits.
        with write_transaction():
            held = claim_many([row.id for row in rows], now, IDEMPOTENT_LEASE)
        rows = [row for row in rows if row.id in held]
    sent, delivered = 0, []
    try:
        for index, row in enumerate(rows):
            if not batched and not claim(row, now, dt.timedelta(seconds=settings.outbound.lease_seconds)):
                continue
            try:
                transport.send(row, signer.sign(crlf(tokens.unseal(bytes(row.raw), secret))))
            except PermanentFailure as exc:
                _mark(row, "failed", str(exc), now)
                continue
            except DestinationUnavailable as exc:
                _hold([each.id for each in rows[index:]], exc, now, claimed=batched)
                raise
            except TemporaryFailure as exc:
                _retry(row, exc, now, settings.outbound.retry_seconds)
                if isinstance(exc, RelayUnavailable):
                    log.warning("relay unavailable, stopping this round: %s", exc)
                    if batched:
                        _release(rows[index + 1:], now)
                    break
                continue
            sent += 1
            if batched:
                delivered.append(row.id)
            else:
                _mark_sent([row.id], now)
    finally:
        if delivered:
            _mark_sent(delivered, now)
        if own:
            transport.close()
    return sent


def _mark_sent(ids: list[int], now) -> None:
    with write_transaction():
        OutboundMessage.update(state="sent", sent_at=now, attempts=OutboundMessage.attempts + 1).where(
            OutboundMessage.id.in_(ids)).execute()


def _release(rows: list[OutboundMessage], now) -> None:
    """Claimed but not tried this round: due again at once, not after the lease."""
    if rows:
        with write_transaction():
            OutboundMessage.update(state="queued", next_attempt=now).where(
                OutboundMessage.id.in_([row.id for row in rows]), OutboundMessage.state == "sending").execute()


def _hold(ids: list[int], exc: Exception, now, claimed: bool) -> None:
    """The destination cannot take mail: the rows wait in the queue, due at once, their
    attempts not counted, with the reason shown by `lets outbox`."""
    if not ids:
        return
    error = str(exc)[:2000]
    with write_transaction():
        if claimed:
            OutboundMessage.update(state="queued", next_attempt=now, last_error=error).where(
                OutboundMessage.id.in_(ids), OutboundMessage.state == "sending").execute()
        else:
            OutboundMessage.update(last_error=error).where(
                OutboundMessage.id.in_(ids), OutboundMessage.state == "queued").execute()


def _retry(row: OutboundMessage, exc: Exception, now, retry_seconds: int = 60) -> None:
    if row.attempts + 1 >= GIVE_UP_AFTER:
        _mark(row, "failed", f"gave up: {exc}", now)
        return
    row.attempts += 1
    delay = min(dt.timedelta(seconds=retry_seconds * 2 ** (row.attempts - 1)), MAX_BACKOFF)
    log.info("outbound %s to %s deferred %s: %s", row.id, row.recipient, delay, exc)
    with write_transaction():
        OutboundMessage.update(state="queued", attempts=row.attempts, last_error=str(exc)[:2000],
                               next_attempt=now + delay).where(OutboundMessage.id == row.id).execute()


def _mark(row: OutboundMessage, state: str, error: str, now) -> None:
    log.warning("outbound %s to %s %s: %s", row.id, row.recipient, state, error)
    with write_transaction():
        OutboundMessage.update(state=state, last_error=error[:2000], attempts=row.attempts + 1,
                               sent_at=now).where(OutboundMessage.id == row.id).execute()


def enqueue(outgoing: Outgoing, inbound=None) -> OutboundMessage:
    """Put a composed message in the outbox (inside the caller's transaction)."""
    return _insert_outbound(key=outgoing.key, message_id=outgoing.message_id, mail_from=outgoing.mail_from,
                            recipient=outgoing.recipient, raw=outgoing.raw, kind=outgoing.kind,
                            inbound=inbound.id if inbound is not None else None)


_insert_outbound = prepared_insert(OutboundMessage)
