"""`lets serve` runs the worker (process, scheduled mail) and the deliverer in child
processes, and starts either again when it dies.

Parsing, handling and composing are CPU work in Python; in the SMTP server's process
they would take the GIL from the event loop that answers clients. In their own process
they run on another core, and the SMTP side only stores and answers. Delivery has a
process of its own for the same reason (worker.Deliverer). They share nothing but the
database, which already makes every step safe to run concurrently (claims, the outbox
lease), and wake-up flags that only save each its idle wait and that a killed process
cannot leave locked (flag.py).

A child that dies (the kernel's OOM killer, an administrator's kill, a bug) is noticed
within WATCH_EVERY seconds and started again after a back-off; the SMTP edge meanwhile
stores mail into the spool and answers as before, and the new worker takes it from
there. A child that keeps dying is not mended by starting it again (a broken database, a
bad release): `lets serve` then exits non-zero, for its service manager to restart the
whole service and to show the failure.
"""
from __future__ import annotations

import collections
import ctypes
import logging
import multiprocessing
import os
import signal
import time

from .flag import Flag
from .worker import DeliverySignal

log = logging.getLogger(__name__)

PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1
# Seconds the worker lets mail gather after a wake-up: at one mail every few
# milliseconds this halves the SMTP latency (fewer waits for the write lock) and costs
# a reply at most this much delay.
GATHER = 0.01

# Seconds between looks at the children (`lets serve`'s main loop).
WATCH_EVERY = 0.2
# A dead child is started again after FIRST_DELAY seconds, twice as long after each
# death that follows, at most LONGEST_DELAY; one that ran STEADY seconds before it died
# starts from FIRST_DELAY again.
FIRST_DELAY = 1.0
LONGEST_DELAY = 60.0
STEADY = 60.0
# A child that dies this often within GIVE_UP_WITHIN seconds stops `lets serve`.
GIVE_UP_AFTER = 5
GIVE_UP_WITHIN = 300.0


class ChildFailing(Exception):
    """A child keeps dying: `lets serve` stops, for its service manager to start it again."""


class Child:
    """One child process, started again after a back-off when it dies."""

    def __init__(self, context, label: str, name: str, target, args: tuple):
        self.context, self.label, self.name = context, label, name
        self.target, self.args = target, args
        self.process = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.delay = FIRST_DELAY
        self.deaths: collections.deque[float] = collections.deque()

    def start(self) -> None:
        self.process = self.context.Process(target=self.target, args=self.args, name=self.name, daemon=True)
        self.process.start()
        self.started_at, self.restart_at = time.monotonic(), None

    def watch(self, now: float) -> None:
        """Start the child again once its back-off has passed; note a death and set the
        back-off; raise ChildFailing when it died too often."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.start()
            return
        if self.process.is_alive():  # also reaps it when it is dead
            return
        how = _how(self.process.exitcode)
        if now - self.started_at >= STEADY:
            self.delay = FIRST_DELAY
        self.deaths.append(now)
        while now - self.deaths[0] > GIVE_UP_WITHIN:
            self.deaths.popleft()
        if len(self.deaths) >= GIVE_UP_AFTER:
            raise ChildFailing(f"the {self.label} process died {len(self.deaths)} times in "
                               f"{GIVE_UP_WITHIN / 60:g} minutes (last: {how}); stopping lets serve, "
                               "for its service manager to start it again")
        log.warning("the %s process died (%s); restarting it in %g s", self.label, how, self.delay)
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, LONGEST_DELAY)


def _how(exitcode: int) -> str:
    if exitcode >= 0:
        return f"exited with status {exitcode}"
    try:
        return f"killed by signal {-exitcode}, {signal.Signals(-exitcode).name}"
    except ValueError:
        return f"killed by signal {-exitcode}"


class WorkerProcess:
    """The worker and the deliverer in child processes that die with their parent, even by
    SIGKILL, and that the parent starts again when they die (`watch`)."""

    def __init__(self, settings, idle: float = 5.0):
        context = multiprocessing.get_context("spawn")  # no forked copy of our threads or connections
        parent = os.getpid()
        self.wakeup = Flag()
        self.delivery = delivery = DeliverySignal()
        self.worker = Child(context, "worker", "lets-worker", _main, (settings, self.wakeup, delivery, idle, parent))
        self.deliverer = Child(context, "delivery", "lets-deliver", _deliver, (settings, delivery, idle, parent))
        # Each with the flag that wakes it from its idle wait.
        self.children = [(self.worker, self.wakeup), (self.deliverer, delivery.queued)]

    def start(self) -> None:
        for child, _ in self.children:
            child.start()

    def wake(self, *_) -> None:
        self.wakeup.set()

    def watch(self) -> None:
        """Look at the children (every WATCH_EVERY seconds): start again those that died.
        Call it from the thread that started them: a child dies with the thread that
        started it (PR_SET_PDEATHSIG follows the thread, not the process). Raises
        ChildFailing for a child that keeps dying."""
        now = time.monotonic()
        for child, _ in self.children:
            child.watch(now)

    def stop(self, timeout: float = 30.0) -> None:
        for child, wakeup in self.children:
            if child.process.is_alive():  # one waiting to be started again is not
                os.kill(child.process.pid, signal.SIGTERM)
                wakeup.set()  # from here: the child's handler only notes the request
        for child, _ in self.children:
            child.process.join(timeout)
            if child.process.is_alive():
                child.process.kill()
                child.process.join()


def _become(name: bytes, parent: int) -> None:
    """Take the child's name, which `ps` and `top` show (and by which tests find it), and
    die with the parent: a worker left behind by a killed server would keep running
    beside its successor."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name))
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the idle loop's parent check remains
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _main(settings, wakeup, delivery, idle: float, parent: int) -> None:
    _become(b"lets-worker", parent)
    logging.basicConfig(level=logging.WARNING, format="lets-worker: %(levelname)s %(message)s")
    from db import connect

    from .worker import Worker

    from .health import Record

    connect(settings.database_url)
    worker = Worker(settings, idle=idle, wakeup=wakeup, parent=parent, delivery=delivery, gather=GATHER,
                    record=Record(settings, "worker"))
    # Only a note: a threading.Event set from a handler deadlocks on a second SIGTERM
    # (worker.Stop). The parent wakes us.
    signal.signal(signal.SIGTERM, worker.stopping.from_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    worker.run()


def _deliver(settings, delivery, idle: float, parent: int) -> None:
    _become(b"lets-deliver", parent)
    logging.basicConfig(level=logging.WARNING, format="lets-deliver: %(levelname)s %(message)s")
    from db import connect

    from .message.compose import now_utc
    from .worker import Deliverer

    from .health import Record

    connect(settings.database_url)
    deliverer = Deliverer(settings, now_utc, idle, delivery, parent=parent, record=Record(settings, "delivery"))
    signal.signal(signal.SIGTERM, deliverer.stopping.from_signal)  # only a note, as in _main
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    deliverer.run()
