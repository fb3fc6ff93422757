"""The background loop of `lets serve`: process stored mail, then deliver the outbox."""
from __future__ import annotations

import logging
import threading
import time

import peewee

from .fanout import sender_for
from .outbox import deliver_pending
from .pipeline import Processor
from .scheduled import run_due

# Scheduled mail (digests, expiry warnings) is looked at once a minute, not every turn.
SCHEDULE_EVERY = 60.0

log = logging.getLogger(__name__)


class Worker(threading.Thread):
    def __init__(self, settings, processor: Processor | None = None, idle: float = 5.0):
        super().__init__(name="lets-worker", daemon=True)
        self.settings = settings
        self.processor = processor or Processor(settings)
        self.idle = idle
        self.wakeup = threading.Event()
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
        deliver_pending(self.settings, clock=self.processor.clock)
        return done

    def run(self):
        while not self.stopping.is_set():
            self.wakeup.clear()
            try:
                busy = self.run_once()
            except (peewee.OperationalError, peewee.InterfaceError):
                log.exception("database unavailable; retrying")
                busy = 0
            if not busy:
                self.wakeup.wait(self.idle)
