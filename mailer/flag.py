"""A flag that processes raise, lower and wait for, which no process can leave locked.

`lets serve` used multiprocessing.Event between its processes. That is a Condition over
semaphores, and its set() waits until every process asleep in wait() has woken: a child
killed in its idle wait never wakes, and the SMTP edge's next set() (a mail was stored)
waited forever, with the client's 250 behind it. Here the flag is a pipe whose ends
never block: a byte in it is the flag raised, reading it empty lowers it, and a full
pipe means it is raised already. A process that dies leaves at most a byte behind.
"""
from __future__ import annotations

import os
import select
from multiprocessing import reduction


class Flag:
    """Event-like (`set`, `clear`, `is_set`, `wait`); passed to a child process as an
    argument of multiprocessing's Process, which hands the child the same pipe."""

    def __init__(self):
        self.reader, self.writer = os.pipe()
        os.set_blocking(self.reader, False)
        os.set_blocking(self.writer, False)

    def set(self) -> None:
        try:
            os.write(self.writer, b"\1")
        except BlockingIOError:  # full: raised already, and nobody has looked since
            pass

    def clear(self) -> None:
        try:
            while os.read(self.reader, 4096):
                pass
        except BlockingIOError:
            pass

    def is_set(self) -> bool:
        return self.wait(0)

    def wait(self, timeout: float | None) -> bool:
        """Whether the flag is raised, waiting at most `timeout` seconds for it."""
        poller = select.poll()  # one per call: a poll object is not for two threads at once
        poller.register(self.reader, select.POLLIN)
        return bool(poller.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999))))

    def close(self) -> None:
        os.close(self.reader)
        os.close(self.writer)

    def __reduce__(self):
        return _rebuild, (reduction.DupFd(self.reader), reduction.DupFd(self.writer))


def _rebuild(reader, writer) -> Flag:
    flag = Flag.__new__(Flag)
    flag.reader, flag.writer = reader.detach(), writer.detach()
    return flag
