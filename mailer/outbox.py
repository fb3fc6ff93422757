"""Delivering the outbox: into a local Maildir, or through an SMTP relay."""
from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import socket
import ssl
from pathlib import Path

from db.models import OutboundMessage

from .compose import now_utc
from .settings import Settings

log = logging.getLogger(__name__)

# Retry a temporary failure after 1, 2, 4 … minutes, up to a day, then give up.
MAX_BACKOFF = dt.timedelta(hours=6)
GIVE_UP_AFTER = 12


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class MaildirTransport:
    """Writes each message as one file in `new/`; a retried delivery finds its file and stops."""

    def __init__(self, path: Path):
        self.path = path
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(parents=True, exist_ok=True)

    def send(self, row: OutboundMessage) -> None:
        name = f"{row.key}.lets"
        target = self.path / "new" / name
        if target.exists() or any((self.path / "cur").glob(name + "*")):
            return
        temporary = self.path / "tmp" / name
        try:
            with open(temporary, "wb") as handle:
                handle.write(f"Return-Path: <{row.mail_from}>\r\nDelivered-To: {row.recipient}\r\n".encode())
                handle.write(bytes(row.raw))
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(temporary, target)
        except OSError as exc:
            raise TemporaryFailure(str(exc)) from exc

    def close(self) -> None:
        pass


class SmtpTransport:
    """Hands messages to a relay, keeping one connection open for a batch."""

    def __init__(self, settings: Settings):
        self.outbound = settings.outbound
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        out = self.outbound
        if out.relay_port == 465:
            connection = smtplib.SMTP_SSL(out.relay_host, out.relay_port, timeout=30,
                                          context=ssl.create_default_context())
        else:
            connection = smtplib.SMTP(out.relay_host, out.relay_port, timeout=30)
            if out.starttls:
                connection.starttls(context=ssl.create_default_context())
        if out.relay_user:
            connection.login(out.relay_user, out.relay_password)
        return connection

    def send(self, row: OutboundMessage) -> None:
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.sendmail(row.mail_from, [row.recipient], bytes(row.raw))
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {text!r}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise (PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure)(
                f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            self.close()
            raise TemporaryFailure(f"{exc.__class__.__name__}: {exc}") from exc

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.connection = None


def transport_for(settings: Settings):
    if settings.outbound.mode == "smtp":
        return SmtpTransport(settings)
    return MaildirTransport(settings.path(settings.outbound.maildir))


def deliver_pending(settings: Settings, transport=None, limit: int = 200, clock=now_utc) -> int:
    """Send what is due in the outbox; the number sent."""
    now = clock()
    rows = list(OutboundMessage.select()
                .where(OutboundMessage.state == "queued", OutboundMessage.next_attempt <= now)
                .order_by(OutboundMessage.id).limit(limit))
    if not rows:
        return 0
    own = transport is None
    transport = transport or transport_for(settings)
    sent = 0
    try:
        for row in rows:
            try:
                transport.send(row)
            except PermanentFailure as exc:
                _mark(row, "failed", str(exc), now)
                continue
            except TemporaryFailure as exc:
                row.attempts += 1
                if row.attempts >= GIVE_UP_AFTER:
                    _mark(row, "failed", f"gave up: {exc}", now)
                else:
                    delay = min(dt.timedelta(minutes=2 ** (row.attempts - 1)), MAX_BACKOFF)
                    OutboundMessage.update(attempts=row.attempts, last_error=str(exc)[:2000],
                                           next_attempt=now + delay).where(OutboundMessage.id == row.id).execute()
                continue
            OutboundMessage.update(state="sent", sent_at=now, attempts=row.attempts + 1).where(
                OutboundMessage.id == row.id).execute()
            sent += 1
    finally:
        if own:
            transport.close()
    return sent


def _mark(row: OutboundMessage, state: str, error: str, now) -> None:
    log.warning("outbound %s to %s %s: %s", row.id, row.recipient, state, error)
    OutboundMessage.update(state=state, last_error=error[:2000], attempts=row.attempts + 1,
                           sent_at=now).where(OutboundMessage.id == row.id).execute()
