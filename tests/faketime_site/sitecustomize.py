"""Loaded by every Python process a test starts under libfaketime (tests/faketime.py puts
this folder first on PYTHONPATH, so that spawned children load it too).

libfaketime 0.9.10 (Debian 12) mistranslates the absolute deadline of
clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) when the monotonic clock is not faked,
and the kernel refuses it: from Python 3.11 on, time.sleep raises OSError EINVAL
(wolfcw/libfaketime#426). Sleeping by select() waits the same time without that call."""
import select
import time


def _sleep(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
