"""The background loop of `lets serve`: process stored mail, then deliver the outbox."""
from __future__ import annotations

import logging
import os
import threading
import time

import peewee

from .fanout import sender_for
from .outbox import deliver_pending
from .pipeline import Processor
from .scheduled import run_due

# Scheduled mail (digests, expiry warnings) is looked at once a minute, not every turn.
SCHEDULE_EVERY = 60.0

# Seconds between delivery rounds while there is mail to deliver.
DELIVERY_PAUSE = 0.1

log = logging.getLogger(__name__)


class Deliverer(threading.Thread):
    """Delivers the outbox beside the processing loop: delivery waits on the disk and the
    relay, processing on the CPU, so in two threads neither waits for the other."""

    def __init__(self, settings, clock, idle: float):
        super().__init__(name="lets-deliver", daemon=True)
        self.settings, self.clock, self.idle = settings, clock, idle
        self.wakeup = threading.Event()
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.wakeup.clear()
            try:
                sent = deliver_pending(self.settings, clock=self.clock)
            except (peewee.OperationalError, peewee.InterfaceError):
                log.exception("database unavailable; retrying")
                sent = 0
            if sent:
                # A round costs two commits besides the messages: under a stream of
                # mail, let replies gather for a moment rather than deliver each alone.
                self.stopping.wait(DELIVERY_PAUSE)
            else:
                self.wakeup.wait(self.idle)

    def stop(self):
        self.stopping.set()
        self.wakeup.set()


class Worker(threading.Thread):
    def __init__(self, settings, processor: Processor | None = None, idle: float = 5.0, wakeup=None,
                 parent: int | None = None, deliver_separately: bool = False, gather: float = 0.0):
        super().__init__(name="lets-worker", daemon=True)
        self.settings = settings
        self.processor = processor or Processor(settings)
        self.idle = idle
        self.deliverer = Deliverer(settings, self.processor.clock, idle) if deliver_separately else None
        # A multiprocessing.Event when the worker runs in its own process (workerprocess.py).
        self.wakeup = wakeup or threading.Event()
        self.parent = parent
        self.gather = gather
        self.stopping = threading.Event()
        self.next_schedule = 0.0

    def wake(self, *_):
        self.wakeup.set()

    def stop(self):
        self.stopping.set()
        self.wakeup.set()

    def run_once(self) -> int:
        done = self.processor.process_pending()
        if time.monotonic() >= self.next_schedule:
            self.next_schedule = time.monotonic() + SCHEDULE_EVERY
            sender = sender_for(self.settings)
            try:
                done += run_due(self.settings, self.processor.clock(), self.processor.composer, sender=sender)
            finally:
                if sender is not None:
                    sender.close()
        if self.deliverer is not None:
            self.deliverer.wakeup.set()
        else:
            deliver_pending(self.settings, clock=self.processor.clock)
        return done

    def run(self):
        if self.deliverer is not None:
            self.deliverer.start()
        try:
            self._loop()
        finally:
            self.processor.close()
            if self.deliverer is not None:
                self.deliverer.stop()
                self.deliverer.join(timeout=30)

    def _loop(self):
        while not self.stopping.is_set():
            if self.parent is not None and os.getppid() != self.parent:
                return  # the server that started us is gone
            self.wakeup.clear()
            try:
                busy = self.run_once()
            except (peewee.OperationalError, peewee.InterfaceError):
                log.exception("database unavailable; retrying")
                busy = 0
            if not busy and self.wakeup.wait(self.idle) and self.gather:
                # Woken by a stored mail: let the next few arrive too, so one commit
                # (and one hold of SQLite's write lock) serves several.
                self.stopping.wait(self.gather)
