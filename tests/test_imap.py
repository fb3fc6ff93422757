"""Mailbox mode against a real Dovecot: store, process, move; batches; restarts; UIDVALIDITY."""
import ssl
import threading

import pytest
from imapclient import IMAPClient

from db.models import InboundMessage, MailboxState, OutboundMessage
from mailer import settings as settings_module
from mailer.inbound.imap import Poller

from conftest import wait_for
from dovecot import PASSWORD, USER, Dovecot


@pytest.fixture
def dovecot(tls_certificate):
    server = Dovecot(tls_certificate)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def mailbox(settings, dovecot, tls_certificate):
    """Settings for the group's mailbox at the test Dovecot, over TLS with its certificate trusted."""
    return settings_module.replace(settings, imap={
        "host": "127.0.0.1", "port": dovecot.port, "user": USER, "password": PASSWORD, "ssl": True,
        "ca_file": str(tls_certificate.cert), "batch": 10, "idle_seconds": 5, "max_backoff_seconds": 1})


def client(mailbox) -> IMAPClient:
    context = ssl.create_default_context(cafile=mailbox.imap.ca_file)
    imap = IMAPClient("127.0.0.1", mailbox.imap.port, ssl=True, ssl_context=context, timeout=10)
    try:
        imap.login(USER, PASSWORD)
    except BaseException:
        imap.shutdown()
        raise
    return imap


def deliver(mailbox, *messages: str) -> None:
    """Put mail in the inbox as the provider's server would."""
    imap = client(mailbox)
    try:
        for text in messages:
            imap.append("INBOX", text.replace("\n", "\r\n").encode())
    finally:
        imap.logout()


def folders(mailbox) -> dict[str, int]:
    imap = client(mailbox)
    try:
        return {name: imap.folder_status(name, [b"MESSAGES"])[b"MESSAGES"] if imap.folder_exists(name) else 0
                for name in ("INBOX", "Processed", "Ignored", "Failed")}
    finally:
        imap.logout()


def help_mail(n: int, sender="sam@example.org") -> str:
    return (f"From: {sender}\nTo: lets@lets.example\nSubject: HELP\nMessage-ID: <imap-{n}@example.org>\n"
            f"Date: Mon, 23 Nov 2026 10:00:00 +0100\n\nhelp me please\n")


@pytest.fixture
def running(mailbox, db):
    """A poller following the mailbox in a thread, as `lets poll` runs it."""
    poller = Poller(mailbox, first_backoff=0.1)
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    yield poller
    poller.stop()
    thread.join(10)
    assert not thread.is_alive()


def test_mail_in_the_mailbox_is_answered_and_moved_to_processed(mailbox, group, sam, running):
    deliver(mailbox, help_mail(1))
    wait_for(lambda: folders(mailbox)["Processed"] == 1)
    row = InboundMessage.get()
    assert (row.state, row.kind, row.sender) == ("processed", "help", "sam@example.org")
    assert row.mail_from is None, "a mailbox has no envelope: unknown, not the null sender"
    assert group.last("sam@example.org").subject
    assert folders(mailbox) == {"INBOX": 0, "Processed": 1, "Ignored": 0, "Failed": 0}


def test_return_path_from_the_mailbox_decides_what_is_a_bounce(mailbox, group, sam, running):
    bounce = ("Return-Path: <>\nFrom: sam@example.org\nTo: lets@lets.example\nSubject: HELP\n"
              "Message-ID: <imap-bounce@example.org>\n\nundeliverable\n")
    deliver(mailbox, bounce, help_mail(2))
    wait_for(lambda: folders(mailbox)["INBOX"] == 0)
    rows = {row.message_id: row for row in InboundMessage.select()}
    assert rows["<imap-bounce@example.org>"].mail_from is None, "stored as unknown; parse reads Return-Path"
    assert (rows["<imap-bounce@example.org>"].state, rows["<imap-bounce@example.org>"].kind) == ("ignored", "bounce")
    assert rows["<imap-2@example.org>"].state == "processed"
    assert folders(mailbox) == {"INBOX": 0, "Processed": 1, "Ignored": 1, "Failed": 0}
    assert OutboundMessage.select().count() == 1, "the bounce is never answered"


def test_a_backlog_is_read_in_batches_in_order(mailbox, group, sam, db):
    deliver(mailbox, *[help_mail(n) for n in range(35)])
    poller = Poller(mailbox)
    imap = poller.connect()
    try:
        assert poller.sync(imap) == 35
    finally:
        imap.logout()
    assert [row.message_id for row in InboundMessage.select().order_by(InboundMessage.id)] == [
        f"<imap-{n}@example.org>" for n in range(35)]
    assert folders(mailbox)["Processed"] == 35
    assert MailboxState.get().last_uid == 35


def test_a_message_read_twice_is_stored_and_answered_once(mailbox, group, sam, db):
    """A crash after storing but before the move leaves the message in the inbox."""
    deliver(mailbox, help_mail(7))
    poller = Poller(mailbox)
    imap = poller.connect()
    try:
        poller.move = lambda *args: None  # the move is lost, as in a crash
        poller.sync(imap)
        MailboxState.update(last_uid=0).execute()  # and the progress with it
        del poller.move
        poller.sync(imap)
    finally:
        imap.logout()
    assert InboundMessage.select().count() == 1 and OutboundMessage.select().count() == 1
    assert folders(mailbox)["Processed"] == 1 and folders(mailbox)["INBOX"] == 0


def test_changed_uidvalidity_starts_over_without_answering_twice(mailbox, group, sam, db):
    deliver(mailbox, help_mail(1))
    poller = Poller(mailbox)
    imap = poller.connect()
    try:
        poller.sync(imap)
        imap.select_folder("Processed")
        imap.move(imap.search(), "INBOX")  # someone puts it back, then the server renumbers
        imap.select_folder("INBOX")
        MailboxState.update(uidvalidity=1, last_uid=999).execute()
        assert poller.sync(imap) == 1
    finally:
        imap.logout()
    assert MailboxState.get().uidvalidity != 1
    assert OutboundMessage.select().count() == 1
    assert folders(mailbox)["INBOX"] == 0


def test_polling_survives_a_server_restart(mailbox, group, sam, dovecot, running):
    deliver(mailbox, help_mail(1))
    wait_for(lambda: folders(mailbox)["Processed"] == 1)
    dovecot.stop()
    dovecot.start()
    deliver(mailbox, help_mail(2))
    wait_for(lambda: folders(mailbox)["Processed"] == 2, timeout=20)
    assert running.connections >= 2, "the poller reconnected"
    assert [r.state for r in InboundMessage.select()] == ["processed", "processed"]
