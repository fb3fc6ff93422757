"""One writer at a time on a SQLite file, queued by the kernel rather than by SQLite.

When the write lock is taken, SQLite's busy handler sleeps and retries: 1, 2, 5, 10 …
up to 100 ms between tries. Measured: a writer waiting for a lock held 1 ms waits
3.3 ms, for one held 10 ms 18.5 ms. Under a stream of mail the writers (storing,
processing, delivering) take turns many times a second, and spent most of their time
asleep. Every write transaction of ours first takes an flock on a file beside the
database, then BEGIN IMMEDIATE, which then finds SQLite's lock free. A writer that does
not take the flock (the sqlite3 shell) is still handled by busy_timeout as before.

A writer that finds the lock taken also marks the first byte of the lock file, shared
by every process through mmap: the worker, which holds the lock for a batch of mails,
reads it after each mail and commits early, so that another writer (delivery, an
administrator's command) is kept waiting for one mail's processing, not a batch's.
"""
from __future__ import annotations

import fcntl
import mmap
import os
import threading
import time
from contextlib import contextmanager

import peewee

# Polling bounds: the first retries come quickly, so a short hold costs a short wait.
FIRST_PAUSE = 0.0001
LONGEST_PAUSE = 0.001


def mode_of_database(database_path) -> int:
    """The permissions for a file beside the database (its lock, its spool): the database
    file's own, as SQLite gives its -wal and -shm files, so whoever may write the
    database (an administrator's `lets`) may use them too."""
    try:
        return os.stat(database_path).st_mode & 0o666
    except OSError:
        return 0o600


class WriteLock:
    """An flock per thread (flock is held per open file, so threads need their own)."""

    def __init__(self, database_path: str, timeout: float):
        self.path = database_path + ".lock"
        self.timeout = timeout
        self.local = threading.local()
        self.shared: tuple[int, mmap.mmap] | None = None  # (pid, the mapped flag)

    def _fd(self) -> int:
        held = getattr(self.local, "descriptor", None)
        if held is None or getattr(self.local, "pid", None) != os.getpid():
            mode = mode_of_database(self.path[:-len(".lock")])
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
            held = self.local.descriptor = _Descriptor(fd)
            self.local.pid = os.getpid()
        return held.fd

    def _flag(self) -> mmap.mmap:
        if self.shared is None or self.shared[0] != os.getpid():
            fd = self._fd()
            if os.fstat(fd).st_size < 1:
                os.ftruncate(fd, 1)
            self.shared = (os.getpid(), mmap.mmap(fd, 1))
        return self.shared[1]

    def wanted(self) -> bool:
        """Whether another writer has been waiting since this lock was last taken."""
        return self._flag()[0] == 1

    @contextmanager
    def held(self):
        fd = self._fd()
        self._acquire(fd)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _acquire(self, fd: int) -> None:
        # Not a blocking flock: that has no timeout, and a writer stuck for longer than
        # busy_timeout must fail ("database is locked", a 451 at the SMTP edge) as before.
        deadline, pause = time.monotonic() + self.timeout, FIRST_PAUSE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._flag()[0] = 0
                return
            except BlockingIOError:
                self._flag()[0] = 1
                if time.monotonic() >= deadline:
                    raise peewee.OperationalError("database is locked (waiting for another writer)")
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)


class _Descriptor:
    """Kept open for the life of its thread on purpose, and closed when the thread (or the
    lock, with its database) goes away: a file object would warn of being left unclosed."""

    def __init__(self, fd: int):
        self.fd = fd

    def __del__(self):
        try:
            os.close(self.fd)
        except OSError:
            pass
