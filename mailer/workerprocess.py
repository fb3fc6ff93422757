"""`lets serve` runs the worker (process, deliver, scheduled mail) in a child process.

Parsing, handling and composing are CPU work in Python; in the SMTP server's process
they would take the GIL from the event loop that answers clients. In their own process
they run on another core, and the SMTP side only stores and answers. The two share
nothing but the database, which already makes every step safe to run concurrently
(claims, the outbox lease); a wake-up event only saves the worker its idle wait.
"""
from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
# Seconds the worker lets mail gather after a wake-up: at one mail every few
# milliseconds this halves the SMTP latency (fewer waits for the write lock) and costs
# a reply at most this much delay.
GATHER = 0.01


class WorkerProcess:
    """The worker in a child process that dies with its parent, even by SIGKILL."""

    def __init__(self, settings, idle: float = 5.0):
        context = multiprocessing.get_context("spawn")  # no forked copy of our threads or connections
        self.wakeup = context.Event()
        self.process = context.Process(target=_main, args=(settings, self.wakeup, idle, os.getpid()),
                                       name="lets-worker", daemon=True)

    def start(self) -> None:
        self.process.start()

    def wake(self, *_) -> None:
        self.wakeup.set()

    def stop(self, timeout: float = 30.0) -> None:
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGTERM)
            self.wakeup.set()  # from here: the child's handler must not touch the shared event
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _die_with(parent: int) -> None:
    """A worker left behind by a killed server would keep running beside its successor."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the idle loop's parent check remains
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _main(settings, wakeup, idle: float, parent: int) -> None:
    _die_with(parent)
    logging.basicConfig(level=logging.WARNING, format="lets-worker: %(levelname)s %(message)s")
    from db import connect

    from .worker import Worker

    connect(settings.database_url)
    worker = Worker(settings, idle=idle, wakeup=wakeup, parent=parent, deliver_separately=True, gather=GATHER)
    # Only the flag: setting the shared event from a handler that interrupted this very
    # process's wait on it deadlocks multiprocessing's Condition. The parent wakes us.
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    worker.run()
