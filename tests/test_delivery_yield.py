"""Delivery beside the processing loop (worker.Deliverer): it waits while inbound mail is
still being processed, at most YIELD_AT_MOST between rounds, and delivers as soon as the
backlog is gone. Real SQLite database and Maildir outbox; the deliverer runs in a thread
here, in a process of its own under `lets serve`."""
import threading
import time

import pytest

from db.models import OutboundMessage
from mailer import worker
from mailer.message.compose import now_utc
from mailer.worker import Deliverer, DeliverySignal

from conftest import wait_for


def queued() -> int:
    return OutboundMessage.select().where(OutboundMessage.state == "queued").count()


@pytest.fixture
def deliverer(settings, group, an):
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\n")
    assert queued() == 1
    signal = DeliverySignal()
    running = Deliverer(settings, now_utc, idle=0.05, signal=signal)
    thread = threading.Thread(target=running.run, name="lets-deliver-test")
    yield running, signal, thread
    running.stopping.set()
    signal.queued.set()
    thread.join(10)
    signal.close()


def test_delivery_waits_while_inbound_mail_waits_and_goes_when_the_backlog_is_gone(deliverer, monkeypatch):
    running, signal, thread = deliverer
    monkeypatch.setattr(worker, "YIELD_AT_MOST", 30.0)
    signal.backlog.set()
    thread.start()
    signal.queued.set()
    time.sleep(0.5)
    assert queued() == 1, "delivered while the worker still had mail to process"
    signal.backlog.clear()
    signal.queued.set()
    wait_for(lambda: queued() == 0, timeout=5)


def test_a_backlog_that_does_not_end_delays_delivery_by_at_most_yield_at_most(deliverer, monkeypatch):
    running, signal, thread = deliverer
    monkeypatch.setattr(worker, "YIELD_AT_MOST", 0.6)
    running.last_round = time.monotonic()
    signal.backlog.set()
    started = time.monotonic()
    thread.start()
    wait_for(lambda: queued() == 0, timeout=5)
    assert 0.5 <= time.monotonic() - started < 3.0
    assert signal.backlog.is_set()
