"""The background loop of `lets serve`: process stored mail, then deliver the outbox."""
from __future__ import annotations

import logging
import os
import threading
import time

import peewee

from db import database

from .flag import Flag
from .health import Record, Trouble, database_advice, reopen_on, stamp
from .outbound.fanout import sender_for
from .outbound.outbox import MAILDIR_ADVICE, DestinationUnavailable, deliver_pending
from .pipeline import Processor
from .runs.scheduled import run_due

# Scheduled mail (digests, expiry warnings) is looked at once a minute, not every turn.
SCHEDULE_EVERY = 60.0

# Seconds between delivery rounds while there is mail to deliver.
DELIVERY_PAUSE = 0.1

# While inbound mail waits, delivery waits for the processing to catch up, at most this
# long between rounds: the two share the machine's cores, and the members' next mails
# wait for every round spent delivering.
YIELD_AT_MOST = 1.0

log = logging.getLogger(__name__)


class Stop:
    """A stop request, from another thread (`set`) or from a signal handler (`from_signal`).

    threading.Event.set takes a lock: a second SIGTERM that arrives while the handler is
    inside it (a service manager signals every process, and so does the parent) runs the
    handler again in the same thread, which then waits for the lock it holds itself."""

    def __init__(self):
        self.requested = False
        self.event = threading.Event()

    def set(self) -> None:
        self.requested = True
        self.event.set()

    def from_signal(self, *_) -> None:
        self.requested = True  # no lock: the loop sees it at its next turn

    def is_set(self) -> bool:
        return self.requested or self.event.is_set()

    def wait(self, timeout: float) -> bool:
        return self.event.wait(timeout) or self.requested


class DeliverySignal:
    """What the processing loop tells a deliverer in another process: `queued`, replies
    wait in the outbox; `backlog`, inbound mail still waits to be processed. Flags that
    a killed process cannot leave locked (flag.py): either side may die at any moment."""

    def __init__(self):
        self.queued = Flag()
        self.backlog = Flag()

    def close(self) -> None:
        self.queued.close()
        self.backlog.close()


def database_failed(trouble: Trouble, settings, exc: Exception) -> float:
    """Note a database error in `trouble`; the seconds to wait. A connection that SQLite
    could open only read-only (or not at all) is closed, so that the next try sees a fix."""
    error = " ".join(str(exc).split())
    if reopen_on(error):
        try:
            database.close()
        except peewee.PeeweeException:
            pass
    return trouble.failed(f"the database cannot be used: {error}", database_advice(error, settings))


class Deliverer:
    """Delivers the outbox beside the processing loop, in a process of its own (see
    workerprocess.py): delivery waits on the disk and the relay, processing on the CPU.
    In one process they would share one interpreter lock, and every SQLite call, which
    lets go of it, could hand it to the other thread for a whole switch interval."""

    def __init__(self, settings, clock, idle: float, signal: DeliverySignal, parent: int | None = None,
                 record: Record | None = None):
        self.settings, self.clock, self.idle = settings, clock, idle
        self.signal, self.parent = signal, parent
        self.stopping = Stop()
        self.last_round = time.monotonic()
        self.record = record
        self.trouble = Trouble(log, record)
        self.retry_at = 0.0

    def run(self):
        wakeup = self.signal.queued
        while not self.stopping.is_set():
            if self.parent is not None and os.getppid() != self.parent:
                return  # the server that started us is gone
            wakeup.clear()
            if self.record is not None:
                self.record.beat()
            pause = self.retry_at - time.monotonic()
            if pause > 0:  # in trouble: the worker's wake-ups do not shorten the back-off
                wakeup.wait(pause)
                continue
            behind = YIELD_AT_MOST - (time.monotonic() - self.last_round)
            if self.signal.backlog.is_set() and behind > 0:
                wakeup.wait(behind)  # woken after each of the worker's turns, to look again
                continue
            self.last_round = time.monotonic()
            try:
                sent = deliver_pending(self.settings, clock=self.clock)
            except DestinationUnavailable as exc:
                self.retry_at = time.monotonic() + self.trouble.failed(str(exc), MAILDIR_ADVICE)
                continue
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                self.retry_at = time.monotonic() + database_failed(self.trouble, self.settings, exc)
                continue
            self.trouble.cleared()
            if sent:
                # A round costs two commits besides the messages: under a stream of
                # mail, let replies gather for a moment rather than deliver each alone.
                self.stopping.wait(DELIVERY_PAUSE)
            else:
                wakeup.wait(self.idle)


class Worker(threading.Thread):
    def __init__(self, settings, processor: Processor | None = None, idle: float = 5.0, wakeup=None,
                 parent: int | None = None, delivery: DeliverySignal | None = None, gather: float = 0.0,
                 record: Record | None = None):
        super().__init__(name="lets-worker", daemon=True)
        self.settings = settings
        self.processor = processor or Processor(settings)
        self.idle = idle
        # Without a signal the worker delivers the outbox itself after each turn.
        self.delivery = delivery
        # A flag.Flag when the worker runs in its own process (workerprocess.py).
        self.wakeup = wakeup or threading.Event()
        self.parent = parent
        self.gather = gather
        self.stopping = Stop()
        self.next_schedule = 0.0
        self.record = record
        self.trouble = Trouble(log, record)
        self.delivery_trouble = Trouble(log)
        self.retry_at = 0.0

    def wake(self, *_):
        self.wakeup.set()

    def stop(self):
        self.stopping.set()
        self.wakeup.set()

    def run_once(self) -> int:
        done = self.processor.process_pending()
        if self.delivery is not None:
            # Something was processed: more may be waiting, and delivery lets it go first.
            if done:
                self.delivery.backlog.set()
            else:
                self.delivery.backlog.clear()
        if time.monotonic() >= self.next_schedule:
            self.next_schedule = time.monotonic() + SCHEDULE_EVERY
            try:
                sender = sender_for(self.settings)
            except DestinationUnavailable:
                # The Maildir cannot be written (the deliverer says so): bulk mail waits
                # in the outbox, and the scheduled run goes on.
                sender = None
            try:
                done += run_due(self.settings, self.processor.clock(), self.processor.composer, sender=sender)
            finally:
                if sender is not None:
                    sender.close()
            if self.record is not None:
                self.record.update(last_scheduled=stamp())
        if self.delivery is not None:
            self.delivery.queued.set()
        else:
            try:
                deliver_pending(self.settings, clock=self.processor.clock)
            except DestinationUnavailable as exc:  # tried again after the next turn
                self.delivery_trouble.failed(str(exc), MAILDIR_ADVICE)
            else:
                self.delivery_trouble.cleared()
        return done

    def run(self):
        try:
            self._loop()
        finally:
            self.processor.close()

    def _loop(self):
        while not self.stopping.is_set():
            if self.parent is not None and os.getppid() != self.parent:
                return  # the server that started us is gone
            self.wakeup.clear()
            if self.record is not None:
                self.record.beat()
            pause = self.retry_at - time.monotonic()
            if pause > 0:  # in trouble: a stored mail's wake-up does not shorten the back-off
                self.wakeup.wait(pause)
                continue
            try:
                busy = self.run_once()
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                # The spool keeps what the SMTP edge accepted; it is taken once this passes.
                self.retry_at = time.monotonic() + database_failed(self.trouble, self.settings, exc)
                continue
            self.trouble.cleared()
            if not busy and self.wakeup.wait(self.idle) and self.gather:
                # Woken by a stored mail: let the next few arrive too, so one commit
                # (and one hold of SQLite's write lock) serves several.
                self.stopping.wait(self.gather)
