"""What `lets serve` does on a clock: digests that are due, announcements to send, then expiry warnings."""
from __future__ import annotations

import datetime as dt

from . import announce, digest, expiry
from .compose import Composer


def run_due(settings, now: dt.datetime, composer: Composer | None = None, sender=None) -> int:
    """Queue whatever scheduled mail is due at `now`; the number of messages queued.

    With a `sender` (mailer/fanout.py) bulk mail goes out batch by batch as it is queued."""
    return (digest.run_scheduled(settings, now, composer, catch_up=False, sender=sender)
            + announce.send_unsent(settings, now, composer, sender=sender)
            + expiry.warn_expiring(settings, now, composer))
