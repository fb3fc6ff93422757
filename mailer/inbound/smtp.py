"""The inbound SMTP edge: accept mail for the group's addresses, store it, answer 250."""
from __future__ import annotations

import errno
import logging
import socket

from aiosmtpd.controller import Controller

from db.spool import Spool
from db.spool import path_for as spool_path_for

from ..message.authresults import strip_own
from ..settings import Settings
from ..tls import server_context
from .groupcommit import GroupStore

log = logging.getLogger(__name__)


class Handler:
    """aiosmtpd handler: only RCPT and DATA; it knows nothing of offers or ledgers."""

    def __init__(self, settings: Settings, on_stored=lambda stored_id: None):
        self.settings = settings
        self.on_stored = on_stored
        # Next to a SQLite database the mail goes into a spool file of its own, so that a
        # client never waits for the worker's turn to write (db/spool.py).
        self.spool = Spool(path) if (path := spool_path_for(settings.database_url)) else None
        # The database is blocking: keep it off the event loop so one slow commit
        # doesn't stall every other SMTP session; concurrent mails share a commit.
        self.store = GroupStore(store_many=self.spool.store_many) if self.spool else GroupStore()

    def close(self) -> None:
        self.store.close()  # its thread waits for mail that will not come
        if self.spool is not None:
            self.spool.close()

    def is_ours(self, address: str) -> bool:
        local, _, domain = address.lower().rpartition("@")
        group = self.settings.group
        return domain == group.domain and (local == group.local_part or local.startswith(group.local_part + "+"))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.is_ours(address):
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if self.settings.inbound.authserv_id:
            # We are the receiving server: a header in our name that came with the mail is forged.
            raw = strip_own(raw, self.settings.inbound.authserv_id)
        try:
            stored_id = await self.store.store(raw, envelope.mail_from or "", envelope.rcpt_tos)
        except Exception as exc:
            if is_disk_full(exc):
                return "452 4.3.1 Insufficient system storage, try again later"
            log.exception("storing a message failed")
            return "451 4.3.0 Temporary failure, please try again later"
        if stored_id is not None:
            self.on_stored(stored_id)
        return "250 2.0.0 OK: queued"


# SQLite: "database or disk is full" (SQLITE_FULL); PostgreSQL: SQLSTATE 53100, "No space left on device".
_FULL = ("database or disk is full", "no space left on device", "disk full", "quota exceeded")


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether the error, or one it arose from, says the disk is full. On SQLITE_FULL
    SQLite rolls the transaction back itself, so the error that reaches us can be the
    ORM's failed ROLLBACK, with the full disk only in its context."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(text in str(exc).lower() for text in _FULL):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class _Controller(Controller):
    def stop(self, *args, **kwargs):
        super().stop(*args, **kwargs)
        self.handler.close()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def controller(settings: Settings, on_stored=lambda inbound_id: None, port: int | None = None) -> Controller:
    """An aiosmtpd server for the group, not yet started. Port 0 picks a free port."""
    inbound = settings.inbound
    port = inbound.port if port is None else port
    if port == 0:
        # aiosmtpd's Controller connects to its own port to see it is up, so it needs the number.
        port = free_port(inbound.host)
    tls = {}
    if inbound.cert_file and inbound.key_file:
        # Offered, never required: a server that cannot upgrade still delivers (RFC 3207 4).
        tls = dict(tls_context=server_context(settings.path(inbound.cert_file), settings.path(inbound.key_file)),
                   require_starttls=False)
    return _Controller(
        Handler(settings, on_stored),
        hostname=inbound.host,
        port=port,
        data_size_limit=inbound.max_size,
        server_hostname=settings.group.domain,
        ident="lets-mail",
        **tls,
    )
