"""The inbound SMTP edge: accept mail for the group's addresses, store it, answer 250."""
from __future__ import annotations

import asyncio
import errno
import logging
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller

from . import pipeline
from .settings import Settings

log = logging.getLogger(__name__)


class Handler:
    """aiosmtpd handler: only RCPT and DATA; it knows nothing of offers or ledgers."""

    def __init__(self, settings: Settings, on_stored=lambda inbound_id: None):
        self.settings = settings
        self.on_stored = on_stored
        # The database is blocking: keep it off the event loop so one slow commit
        # doesn't stall every other SMTP session.
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store")

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
        loop = asyncio.get_running_loop()
        try:
            inbound_id = await loop.run_in_executor(
                self.executor, pipeline.store, raw, envelope.mail_from or "", list(envelope.rcpt_tos))
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                return "452 4.3.1 Insufficient system storage, try again later"
            log.exception("storing a message failed")
            return "451 4.3.0 Temporary failure, please try again later"
        except Exception as exc:
            if "full" in str(exc).lower():  # SQLite reports a full disk as "database or disk is full"
                return "452 4.3.1 Insufficient system storage, try again later"
            log.exception("storing a message failed")
            return "451 4.3.0 Temporary failure, please try again later"
        if inbound_id is not None:
            self.on_stored(inbound_id)
        return "250 2.0.0 OK: queued"


def controller(settings: Settings, on_stored=lambda inbound_id: None, port: int | None = None) -> Controller:
    """An aiosmtpd server for the group, not yet started."""
    inbound = settings.inbound
    return Controller(
        Handler(settings, on_stored),
        hostname=inbound.host,
        port=inbound.port if port is None else port,
        data_size_limit=inbound.max_size,
        server_hostname=settings.group.domain,
        ident="lets-mail",
    )
