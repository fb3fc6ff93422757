"""Writers on a SQLite file queue on an flock beside it (db/writelock.py): one at a time,
a waiter that gives up says "database is locked", and the worker commits early when the
SMTP server waits, without losing or doubling a mail."""
from __future__ import annotations

import threading

import peewee
import pytest

import db as db_module
from db import write_transaction, writers_waiting
from db.models import InboundMessage, Listing
from db.writelock import WriteLock
from mailer import pipeline

from conftest import TEST_DATABASE, write_lock_held_elsewhere

pytestmark = pytest.mark.skipif(TEST_DATABASE.startswith("postgres"), reason="SQLite's write lock")


def test_a_second_writer_waits_for_the_first_and_is_seen_waiting(db):
    order, seen_waiting = [], []
    release = threading.Event()

    def second():
        with write_transaction():
            order.append("second")

    with write_transaction():
        order.append("first")
        other = threading.Thread(target=second)
        other.start()
        for _ in range(500):  # until the other thread has tried and marked itself waiting
            if writers_waiting():
                seen_waiting.append(True)
                break
            release.wait(0.01)
        order.append("first done")
    other.join(10)
    assert order == ["first", "first done", "second"]
    assert seen_waiting == [True]
    assert not writers_waiting()  # taking the lock clears the mark


def test_a_writer_in_another_process_holds_the_lock_and_a_waiter_gives_up(db):
    path = db_module.database.obj.database
    impatient = WriteLock(path, timeout=0.2)
    with write_lock_held_elsewhere(path):
        with pytest.raises(peewee.OperationalError, match="database is locked"):
            with impatient.held():
                pass
        # The holder (another process) would now see that a writer waits.
        with open(path + ".lock", "rb") as shared:
            assert shared.read(1) == b"\x01"
    with impatient.held():  # free again once the holder is gone
        pass


def test_the_lock_is_released_when_the_transaction_fails(db):
    with pytest.raises(RuntimeError):
        with write_transaction():
            raise RuntimeError("boom")
    other = WriteLock(db_module.database.obj.database, timeout=0.5)
    with other.held():  # "database is locked" if the failed transaction had kept the lock
        pass


def offer(i: int) -> bytes:
    return (f"From: An de Vries <an@example.org>\r\nTo: lets@lets.example\r\nSubject: AANBOD: Les {i}\r\n"
            f"Message-ID: <give-way-{i}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Categorie: les\r\nPrijs: 1 uur\r\n\r\nGitaarles.\r\n").encode()


def test_the_worker_gives_way_after_each_mail_and_still_processes_every_mail(group, an, monkeypatch):
    ids = [pipeline.store(offer(i), "an@example.org", [group.settings.group.address]) for i in range(5)]
    batches = []
    real = pipeline.Processor.process_many

    def recording(self, inbound_ids, give_way=None, parsed=None):
        states = real(self, inbound_ids, give_way=give_way, parsed=parsed)
        batches.append(len(states))
        return states

    monkeypatch.setattr(pipeline.Processor, "process_many", recording)
    monkeypatch.setattr(pipeline, "writers_waiting", lambda: True)  # the SMTP server always waits
    assert group.processor.process_pending() == 5
    assert batches == [1, 1, 1, 1, 1]
    assert {InboundMessage.get_by_id(i).state for i in ids} == {"processed"}
    assert Listing.select().count() == 5
    assert len(group.outbox("an@example.org")) == 5
    monkeypatch.setattr(pipeline, "writers_waiting", lambda: False)
    more = [pipeline.store(offer(i), "an@example.org", [group.settings.group.address]) for i in range(5, 9)]
    batches.clear()
    assert group.processor.process_pending() == 4
    assert batches == [4]  # nobody waits: one transaction for the batch
    assert {InboundMessage.get_by_id(i).state for i in more} == {"processed"}
