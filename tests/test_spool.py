"""The inbound spool beside a SQLite database (db/spool.py): its identity and ids that
never repeat; the worker takes each spooled mail into inbound_message exactly once, with
its envelope, whatever crashes when (the mark moves in the same transaction), reads a
spool made anew from its start, and deletes what it took when idle. Through a real SMTP
server the 250 means the mail is in the spool, and a full spool answers 452."""
from __future__ import annotations

import smtplib
import sqlite3
from datetime import datetime

import peewee
import pytest

from db import is_sqlite
from db.models import InboundMessage, Listing, OutboundMessage, SpoolMark
from db.spool import Spool, path_for
from mailer import pipeline
from mailer.pipeline import Processor, spooled, take_spooled
from mailer.inbound.smtp import controller
from mailer.worker import Worker

from conftest import send_smtp, wait_for

GROUP = "lets@lets.example"


def offer(n: int, padding: int = 0) -> bytes:
    return (f"From: An de Vries <an@example.org>\r\nTo: {GROUP}\r\nSubject: AANBOD: Fiets {n}\r\n"
            f"Message-ID: <spool-{n}@example.org>\r\n\r\nCategorie: vervoer\r\n"
            + "Ik repareer fietsen.\r\n" * (1 + padding)).encode()


@pytest.fixture
def spool(tmp_path):
    spool = Spool(tmp_path / "test.spool")
    yield spool
    spool.close()


def inbound() -> list[tuple]:
    return [(row.message_id, row.state, row.mail_from, row.rcpt_tos)
            for row in InboundMessage.select().order_by(InboundMessage.id)]


def mark(spool: Spool) -> int | None:
    found = SpoolMark.get_or_none(SpoolMark.spool == spool.identity)
    return found.last_id if found else None


def test_a_spool_keeps_its_identity_and_never_repeats_an_id(tmp_path):
    path = tmp_path / "lets.db.spool"
    spool = Spool(path)
    identity = spool.identity
    assert path.exists() and len(identity) == 32
    assert spool.store_many([(offer(n), "an@example.org", [GROUP]) for n in range(3)]) == [1, 2, 3]
    spool.forget(3)
    assert spool.after(0, 10) == []
    assert spool.store_many([(offer(4), "an@example.org", [GROUP])]) == [4]
    spool.close()
    again = Spool(path)
    try:
        assert again.identity == identity
        assert again.store_many([(offer(5), "an@example.org", [GROUP])]) == [5]
    finally:
        again.close()


def test_spooled_mail_is_taken_once_with_its_envelope_and_a_known_message_id_is_passed_over(db, spool, tmp_path):
    spool.store_many([(offer(1), "an@example.org", [GROUP]), (offer(2), "", [GROUP, "lets+x@lets.example"])])
    received = {row[0]: datetime.fromisoformat(row[4]) for row in spool.after(0, 10)}
    assert take_spooled(spool) == 2
    assert inbound() == [("<spool-1@example.org>", "received", "an@example.org", GROUP),
                         ("<spool-2@example.org>", "received", "", f"{GROUP} lets+x@lets.example")]
    assert [row.received_at for row in InboundMessage.select().order_by(InboundMessage.id)] == [
        received[1], received[2]]
    assert mark(spool) == 2
    assert take_spooled(spool) == 0
    reopened = Spool(tmp_path / "test.spool")
    try:
        assert take_spooled(reopened) == 0
    finally:
        reopened.close()

    spool.store_many([(offer(1), "an@example.org", [GROUP]), (offer(3), "an@example.org", [GROUP])])
    assert take_spooled(spool) == 2
    assert [row[0] for row in inbound()] == ["<spool-1@example.org>", "<spool-2@example.org>",
                                             "<spool-3@example.org>"]
    assert mark(spool) == 4
    assert take_spooled(spool) == 0


def test_a_spool_made_anew_is_read_from_its_start(db, tmp_path):
    path = tmp_path / "test.spool"
    old = Spool(path)
    old.store_many([(offer(n), "an@example.org", [GROUP]) for n in range(3)])
    assert take_spooled(old) == 3
    old.close()
    for leftover in tmp_path.glob("test.spool*"):
        leftover.unlink()
    new = Spool(path)
    try:
        assert new.identity != old.identity
        assert new.store_many([(offer(7), "an@example.org", [GROUP])]) == [1]  # below the old mark, 3
        assert take_spooled(new) == 1
        assert mark(new) == 1
    finally:
        new.close()
    assert [row[0] for row in inbound()][-1] == "<spool-7@example.org>"
    assert len(inbound()) == 4


def test_a_take_that_fails_loses_nothing_and_the_next_takes_each_mail_once(db, spool, monkeypatch):
    spool.store_many([(offer(n), "an@example.org", [GROUP]) for n in range(2)])
    real = pipeline._insert_inbound
    calls = []

    def fails_at_the_second(**values):  # fault injection: the database fails mid-take
        calls.append(values["message_id"])
        if len(calls) == 2:
            raise peewee.OperationalError("disk I/O error")
        return real(**values)

    monkeypatch.setattr(pipeline, "_insert_inbound", fails_at_the_second)
    with pytest.raises(peewee.OperationalError):
        take_spooled(spool)
    assert len(calls) == 2  # the first was inserted, and rolled back with the rest
    assert inbound() == []
    assert mark(spool) is None
    assert len(spool.after(0, 10)) == 2

    assert take_spooled(spool) == 2
    assert take_spooled(spool) == 0
    assert [row[0] for row in inbound()] == ["<spool-0@example.org>", "<spool-1@example.org>"]
    assert mark(spool) == 2


@pytest.fixture
def beside(settings, db, an):
    """The spool beside the test database, and a processor that takes from it."""
    if not is_sqlite():
        pytest.skip("the spool is beside a SQLite database only")
    spool = Spool(path_for(settings.database_url))
    processor = Processor(settings)
    yield spool, processor
    processor.close()
    spool.close()


def test_the_worker_deletes_taken_mail_when_idle_and_counts_what_is_not_taken(settings, beside):
    spool, processor = beside
    spool.store_many([(offer(n), "an@example.org", [GROUP]) for n in range(2)])
    assert spooled(settings) == 2
    assert processor.process_pending() == 2
    assert spooled(settings) == 0
    assert len(spool.after(0, 10)) == 2  # taken, still there: the worker was not idle
    assert processor.process_pending() == 0
    assert spool.after(0, 10) == []
    assert spooled(settings) == 0
    assert [row.state for row in InboundMessage.select()] == ["processed", "processed"]
    assert OutboundMessage.select().where(OutboundMessage.kind == "listing/posted").count() == 2


def test_a_spool_that_fails_is_retried_and_the_worker_goes_on(beside, monkeypatch):
    spool, processor = beside
    spool.store_many([(offer(n), "an@example.org", [GROUP]) for n in range(2)])
    # Fault injection: the spool's disk fails while the worker cleans it, then while it reads.
    monkeypatch.setattr(Spool, "forget", lambda self, through: (_ for _ in ()).throw(
        sqlite3.OperationalError("disk I/O error")))
    assert processor.process_pending() == 2
    assert processor.process_pending() == 0   # idle: cleaning fails, and is only logged
    monkeypatch.setattr(Spool, "after", lambda self, last, limit: (_ for _ in ()).throw(
        sqlite3.OperationalError("disk I/O error")))
    spool.store_many([(offer(2), "an@example.org", [GROUP])])
    assert processor.process_pending() == 0
    monkeypatch.undo()
    assert processor.process_pending() == 1
    assert processor.process_pending() == 0
    assert spool.after(0, 10) == []
    assert [row.state for row in InboundMessage.select()] == ["processed"] * 3


@pytest.fixture
def edge(settings, db, an):
    """The SMTP server and a worker, not started: the test starts the worker when it wants."""
    if not is_sqlite():
        pytest.skip("the spool is beside a SQLite database only")
    worker = Worker(settings, idle=0.2)
    smtp = controller(settings, on_stored=worker.wake, port=0)
    smtp.start()
    yield smtp, worker
    smtp.stop()
    if worker.is_alive():
        worker.stop()
        worker.join(30)
        assert not worker.is_alive()


def in_spool(settings) -> list[tuple]:
    """The spool's mails, read as another process would."""
    reader = sqlite3.connect(path_for(settings.database_url))
    try:
        return reader.execute("SELECT mail_from, rcpt_tos, raw FROM mail ORDER BY id").fetchall()
    finally:
        reader.close()


def posted() -> int:
    return OutboundMessage.select().where(OutboundMessage.kind == "listing/posted").count()


def test_a_mail_answered_250_by_smtp_is_in_the_spool_and_then_processed(settings, edge):
    smtp, worker = edge
    assert send_smtp(smtp.port, offer(1), "an@example.org", [GROUP]) == {}
    [(mail_from, rcpt_tos, raw)] = in_spool(settings)
    assert (mail_from, rcpt_tos) == ("an@example.org", GROUP)
    assert b"<spool-1@example.org>" in raw
    assert InboundMessage.select().count() == 0  # the edge did not touch the database
    worker.start()
    wait_for(lambda: posted() == 1)
    assert [row.state for row in InboundMessage.select()] == ["processed"]
    wait_for(lambda: in_spool(settings) == [])  # deleted once the worker is idle


def test_a_full_spool_answers_452_and_the_mail_resent_after_space_returns_is_taken_once(settings, edge):
    smtp, worker = edge
    spool = smtp.handler.spool.db
    pages = spool.execute("PRAGMA page_count").fetchone()[0]
    spool.execute(f"PRAGMA max_page_count = {pages}")
    big = offer(1, padding=400)  # needs several new pages
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send_smtp(smtp.port, big, "an@example.org", [GROUP])
    assert refused.value.smtp_code == 452
    assert in_spool(settings) == []

    spool.execute("PRAGMA max_page_count = 1073741823")
    assert send_smtp(smtp.port, big, "an@example.org", [GROUP]) == {}
    assert len(in_spool(settings)) == 1
    worker.start()
    wait_for(lambda: posted() == 1)
    assert [row.state for row in InboundMessage.select()] == ["processed"]
    assert Listing.select().count() == 1
