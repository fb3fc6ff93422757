"""Programs started at another moment, with libfaketime (apt-get install faketime): the
wall clock starts at that moment and runs on, in the process and in every process it
starts, as on a server whose date it is.

FAKETIME="@…" starts the clock; FAKETIME_DONT_RESET makes children (lets serve's worker
and deliverer) go on from their parent's clock instead of starting it again. The
monotonic clock stays real: faked, Python's timed waits on locks (sem_clockwait, which
libfaketime does not translate) would wait for years (wolfcw/libfaketime#390). Real,
time.sleep needs the shim in faketime_site/ (see its sitecustomize.py)."""
from __future__ import annotations

import datetime as dt
import glob
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHIM = HERE / "faketime_site"
PLACES = ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
          "/usr/local/lib/faketime/libfaketime.so.1")


def library() -> str:
    """The libfaketime library; a missing one fails the test with how to install it."""
    for pattern in PLACES:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise AssertionError("libfaketime is not installed: apt-get install faketime (see README, Development)")


def environment(moment: dt.datetime, base: dict | None = None) -> dict[str, str]:
    """`base` (default: ours) for a process whose clock starts at `moment` (naive UTC)."""
    env = {name: value for name, value in (os.environ if base is None else base).items()
           if name != "FAKETIME_SHARED"}   # a clock of our own, not one a parent of ours shares
    return {**env, "LD_PRELOAD": library(), "FAKETIME": f"@{moment:%Y-%m-%d %H:%M:%S}",
            "FAKETIME_DONT_RESET": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            # The moment is read in the process's local time zone.
            "TZ": "UTC",
            "PYTHONPATH": os.pathsep.join([str(SHIM), *filter(None, [env.get("PYTHONPATH")])])}
