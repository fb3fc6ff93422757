"""A progress bar for the long runs of the command line, drawn only on a terminal."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

import click


@contextmanager
def progress(label: str, length: int | None = None) -> Iterator[Callable[[int], None]]:
    """Yield `advance(count)`; a bar on stderr when stderr is a terminal. Piped, or run from
    cron, nothing at all: click would still print the label there, and a cron mail with a
    stray "sending digests" line looks like a problem to the coordinator who reads it."""
    stream = sys.stderr
    if not stream.isatty():
        yield lambda count=1: None
        return
    # Without a length (how many digests are due is known only at the end) click wants an
    # iterable; one without a length hint draws a moving bar beside the count.
    unknown = None if length is not None else (item for item in ())
    with click.progressbar(unknown, length=length, label=label, file=stream, show_pos=True) as bar:
        yield bar.update
