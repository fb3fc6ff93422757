"""A full disk answers 452 at DATA (RFC 5321 4.5.3.1.10: the client keeps the mail and
retries) and stores nothing; once there is room again the retried mail is taken once.

The full disk is SQLite's own: `PRAGMA max_page_count` on the SMTP server's store
connection makes any growth of the database fail with SQLITE_FULL ("database or disk
is full"), the error a full file system gives, through the same code path. A real full
file system would need a mount of its own, and SQLite's shared-memory index on a full
tmpfs can end the process with SIGBUS rather than an error.
"""
import smtplib
import threading

import pytest

from db import database, is_sqlite
from db.models import InboundMessage, Listing, OutboundMessage
from mailer import pipeline
from mailer.inbound.groupcommit import GroupStore
from mailer.inbound.smtp import controller
from mailer.worker import Worker

from conftest import wait_for


class Disk:
    """The store's room: full or not, switched by the test."""

    def __init__(self):
        self.full = False

    def store_many(self, mails):
        # The SMTP server's store thread: its connection gets the limit.
        if self.full:
            pages = database.execute_sql("PRAGMA page_count").fetchone()[0]
            database.execute_sql(f"PRAGMA max_page_count = {pages}")
        else:
            database.execute_sql("PRAGMA max_page_count = 1073741823")
        return pipeline.store_many(mails)


def offer(n: int) -> bytes:
    # Large enough that storing it must grow the database by several pages.
    return (f"From: An <an@example.org>\r\nTo: lets@lets.example\r\nSubject: AANBOD: Fiets {n}\r\n"
            f"Message-ID: <full-{n}@example.org>\r\n\r\nCategorie: vervoer\r\n"
            + "Ik repareer fietsen, plak banden en stel remmen af.\r\n" * 400).encode()


@pytest.fixture
def disk(settings, db, an):
    if not is_sqlite():
        pytest.skip("the full disk is simulated with SQLite's max_page_count")
    disk = Disk()
    worker = Worker(settings, idle=0.2)
    smtp = controller(settings, on_stored=worker.wake, port=0)
    smtp.handler.store.close()   # the server's own store thread: replaced by the test's
    smtp.handler.store = GroupStore(store_many=disk.store_many)
    worker.start()
    smtp.start()
    disk.port = smtp.port
    yield disk
    smtp.stop()
    smtp.handler.store.close()
    worker.stop()
    # A worker still running would go on writing into the next test's database.
    worker.join(30)
    assert not worker.is_alive()


def send(port: int, raw: bytes) -> int:
    """The SMTP reply code to DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        try:
            client.sendmail("an@example.org", ["lets@lets.example"], raw)
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code
    return 250


def deliver(port: int, raw: bytes, attempts: int = 5) -> int:
    """As a sending MTA does: a 451 (the database was busy) is tried again later."""
    for _ in range(attempts):
        code = send(port, raw)
        if code != 451:
            return code
    return code


def test_a_full_disk_answers_452_and_the_retry_after_space_returns_is_taken_once(disk):
    disk.full = True
    assert send(disk.port, offer(1)) == 452
    assert InboundMessage.select().count() == 0

    disk.full = False
    assert deliver(disk.port, offer(1)) == 250
    wait_for(lambda: OutboundMessage.select().where(OutboundMessage.kind == "listing/posted").count() == 1)
    assert [row.state for row in InboundMessage.select()] == ["processed"]
    assert Listing.select().count() == 1


def test_every_mail_of_a_batch_that_could_not_be_committed_gets_452_and_none_is_stored(disk):
    disk.full = True
    codes = []
    threads = [threading.Thread(target=lambda n=n: codes.append(send(disk.port, offer(n)))) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert codes == [452] * 8
    assert InboundMessage.select().count() == 0

    disk.full = False
    assert [deliver(disk.port, offer(n)) for n in range(8)] == [250] * 8
    wait_for(lambda: InboundMessage.select().where(InboundMessage.state == "processed").count() == 8)
    assert Listing.select().count() == 8
