"""`lets serve` runs the worker (process, scheduled mail) and the deliverer in child processes.

Parsing, handling and composing are CPU work in Python; in the SMTP server's process
they would take the GIL from the event loop that answers clients. In their own process
they run on another core, and the SMTP side only stores and answers. Delivery has a
process of its own for the same reason (worker.Deliverer). They share nothing but the
database, which already makes every step safe to run concurrently (claims, the outbox
lease); wake-up events only save each its idle wait.
"""
from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal

from .worker import DeliverySignal

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
# Seconds the worker lets mail gather after a wake-up: at one mail every few
# milliseconds this halves the SMTP latency (fewer waits for the write lock) and costs
# a reply at most this much delay.
GATHER = 0.01


class WorkerProcess:
    """The worker and the deliverer in child processes that die with their parent, even by SIGKILL."""

    def __init__(self, settings, idle: float = 5.0):
        context = multiprocessing.get_context("spawn")  # no forked copy of our threads or connections
        self.wakeup = context.Event()
        # Kept here: Process.start() drops its arguments, and a shared event the parent
        # no longer holds is unlinked before a spawned child has opened it.
        self.delivery = delivery = DeliverySignal(context)
        self.processes = [
            context.Process(target=_main, args=(settings, self.wakeup, delivery, idle, os.getpid()),
                            name="lets-worker", daemon=True),
            context.Process(target=_deliver, args=(settings, delivery, idle, os.getpid()),
                            name="lets-deliver", daemon=True),
        ]

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def wake(self, *_) -> None:
        self.wakeup.set()

    def stop(self, timeout: float = 30.0) -> None:
        for process, wakeup in zip(self.processes, (self.wakeup, self.delivery.queued)):
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
                wakeup.set()  # from here: the child's handler must not touch the shared event
        for process in self.processes:
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join()


def _die_with(parent: int) -> None:
    """A worker left behind by a killed server would keep running beside its successor."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the idle loop's parent check remains
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _main(settings, wakeup, delivery, idle: float, parent: int) -> None:
    _die_with(parent)
    logging.basicConfig(level=logging.WARNING, format="lets-worker: %(levelname)s %(message)s")
    from db import connect

    from .worker import Worker

    connect(settings.database_url)
    worker = Worker(settings, idle=idle, wakeup=wakeup, parent=parent, delivery=delivery, gather=GATHER)
    # Only the flag: setting the shared event from a handler that interrupted this very
    # process's wait on it deadlocks multiprocessing's Condition, and even a thread's
    # Event deadlocks on a second SIGTERM (worker.Stop). The parent wakes us.
    signal.signal(signal.SIGTERM, worker.stopping.from_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    worker.run()


def _deliver(settings, delivery, idle: float, parent: int) -> None:
    _die_with(parent)
    logging.basicConfig(level=logging.WARNING, format="lets-deliver: %(levelname)s %(message)s")
    from db import connect

    from .compose import now_utc
    from .worker import Deliverer

    connect(settings.database_url)
    deliverer = Deliverer(settings, now_utc, idle, delivery, parent=parent)
    signal.signal(signal.SIGTERM, deliverer.stopping.from_signal)  # only the flag, as in _main
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    deliverer.run()
