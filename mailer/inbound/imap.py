"""Mailbox mode: read the group's mail from an IMAP folder into the same pipeline as SMTP.

Each message is stored (the durable step), processed, and only then moved to the
Processed, Ignored or Failed folder, so a crash at any point leaves it in the inbox
to be read again; the Message-ID makes the second read a no-op. The last UID seen is
kept per folder and UIDVALIDITY (RFC 3501 2.3.1.1): when the server renumbers the
folder we start over and let Message-IDs weed out what we already have.
"""
from __future__ import annotations

import email.utils
import logging
import re
import socket
import threading

import peewee
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from db.models import InboundMessage, MailboxState, utcnow

from ..connection_errors import in_words
from ..message.parse import message_id_from_bytes
from ..oauth2 import TokenError, token
from ..pipeline import Processor, store
from ..settings import Settings
from ..tls import client_context

log = logging.getLogger(__name__)

# What ends a connection and calls for a reconnect (imaplib's abort is an IMAPClientError);
# a token command that failed may well work a minute later (its network, its provider).
CONNECTION_ERRORS = (IMAPClientError, OSError, socket.timeout, EOFError, TokenError)


class Poller:
    """Follows one IMAP folder until stopped: IDLE when the server offers it, else polling."""

    def __init__(self, settings: Settings, processor: Processor | None = None, on_stored=lambda ids: None,
                 first_backoff: float = 1.0):
        self.settings = settings
        self.imap = settings.imap
        self.processor = processor or Processor(settings)
        self.on_stored = on_stored
        self.first_backoff = first_backoff
        self.stopping = threading.Event()
        self.connections = 0
        self.name = f"{self.imap.user}@{self.imap.host}:{self.imap.port}/{self.imap.folder}"

    def stop(self) -> None:
        self.stopping.set()

    # -- the connection
    def connect(self) -> IMAPClient:
        imap = self.imap
        client = log_in(self.settings)
        try:
            for folder in (imap.processed_folder, imap.failed_folder, imap.ignored_folder):
                if not client.folder_exists(folder):
                    client.create_folder(folder)
            client.select_folder(imap.folder)
        except BaseException:
            _close(client)
            raise
        self.connections += 1
        return client

    def run(self) -> None:
        """Poll until stopped; reconnect after any failure with a doubling delay."""
        delay = self.first_backoff
        while not self.stopping.is_set():
            client = None
            try:
                client = self.connect()
                delay = self.first_backoff
                while not self.stopping.is_set():
                    self.sync(client)
                    self.wait(client)
            except (*CONNECTION_ERRORS, peewee.OperationalError, peewee.InterfaceError) as exc:
                log.warning("mailbox %s: %s; reconnecting in %.1fs", self.name, in_words(exc), delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, self.imap.max_backoff_seconds)
            finally:
                if client is not None:
                    _close(client)

    def wait(self, client: IMAPClient) -> None:
        """Until the server reports new mail, the wait runs out, or we are stopped."""
        if b"IDLE" not in client.capabilities():
            self.stopping.wait(self.imap.poll_seconds)
            return
        client.idle()
        try:
            deadline = self.imap.idle_seconds
            waited = 0.0
            while not self.stopping.is_set() and waited < deadline:
                # Short slices so stop() is honoured quickly; any response (EXISTS) ends the wait.
                if client.idle_check(timeout=0.5):
                    break
                waited += 0.5
        finally:
            client.idle_done()

    # -- reading the folder
    def state(self, uidvalidity: int) -> MailboxState:
        row, _ = MailboxState.get_or_create(mailbox=self.name)
        if row.uidvalidity != uidvalidity:
            if row.uidvalidity:
                log.warning("mailbox %s: UIDVALIDITY changed %s → %s; reading the folder again",
                            self.name, row.uidvalidity, uidvalidity)
            row.uidvalidity, row.last_uid = uidvalidity, 0
            row.save()
        return row

    def sync(self, client: IMAPClient) -> int:
        """Read everything new, a batch at a time; the number of messages handled."""
        uidvalidity = client.folder_status(self.imap.folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"]
        state = self.state(uidvalidity)
        handled = 0
        while not self.stopping.is_set():
            # "n:*" always includes the highest UID, even below n (RFC 3501 6.4.8): filter.
            uids = sorted(u for u in client.search(["UID", f"{state.last_uid + 1}:*"]) if u > state.last_uid)
            if not uids:
                break
            batch = uids[: self.imap.batch]
            fetched = client.fetch(batch, [b"RFC822.SIZE", b"BODY.PEEK[]"])
            for uid in batch:
                if uid in fetched:
                    self.handle(client, uid, fetched[uid])
                state.last_uid, state.checked_at = uid, utcnow()
                MailboxState.update(last_uid=uid, checked_at=state.checked_at).where(
                    MailboxState.id == state.id).execute()
                handled += 1
        return handled

    def handle(self, client: IMAPClient, uid: int, data: dict) -> None:
        raw = data.get(b"BODY[]")
        if raw is None or data.get(b"RFC822.SIZE", 0) > self.settings.inbound.max_size:
            log.warning("mailbox %s: UID %s too large or unreadable; moved to %s", self.name, uid,
                        self.imap.failed_folder)
            self.move(client, uid, self.imap.failed_folder)
            return
        inbound_id = store(raw, None, self.recipients(raw))
        if inbound_id is None:  # read before: finish what the first read started
            inbound_id = InboundMessage.get(InboundMessage.message_id == message_id_from_bytes(raw)).id
        else:
            self.on_stored(inbound_id)
        outcome = self.processor.process(inbound_id)
        folder = {"ignored": self.imap.ignored_folder, "failed": self.imap.failed_folder}.get(
            outcome, self.imap.processed_folder)
        self.move(client, uid, folder)

    def recipients(self, raw: bytes) -> list[str]:
        """The envelope recipient is lost in a mailbox; Delivered-To keeps it when it is ours."""
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")
        group = self.settings.group
        found = [address.lower() for _, address in email.utils.getaddresses(
            re.findall(r"^(?:Delivered-To|X-Original-To):\s*(.+)$", head, re.I | re.M))]
        ours = [a for a in found if a.endswith("@" + group.domain) and a.split("@")[0].split("+")[0] == group.local_part]
        return ours or [group.address]

    def move(self, client: IMAPClient, uid: int, folder: str) -> None:
        if b"MOVE" in client.capabilities():
            client.move([uid], folder)
            return
        client.copy([uid], folder)
        client.delete_messages([uid])
        if b"UIDPLUS" in client.capabilities():
            client.uid_expunge([uid])
        else:
            client.expunge()


def log_in(settings: Settings) -> IMAPClient:
    """A connection to the mailbox, logged in with the password or an OAuth2 token."""
    imap = settings.imap
    context = client_context(imap.verify_tls, imap.ca_file)
    client = IMAPClient(imap.host, imap.port, ssl=imap.ssl, ssl_context=context, timeout=30)
    try:
        if imap.starttls and not imap.ssl:
            client.starttls(context)
        if imap.auth == "oauth2":
            access = token(imap.token_command, "[imap] token_command", cwd=settings.base_dir)
            client.oauth2_login(imap.user, access)
        else:
            client.login(imap.user, imap.password)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is already gone: nothing to say goodbye to
        try:
            client.shutdown()
        except Exception:
            pass
    finally:
        try:
            client.socket().close()  # whatever logout or shutdown left open (a no-op after them)
        except Exception:
            pass
