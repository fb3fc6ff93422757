"""What `lets serve` does on a clock: digests that are due, expiry warnings, membership mail."""
from __future__ import annotations

import datetime as dt

from . import digest, expiry, membership
from .compose import Composer


def run_due(settings, now: dt.datetime, composer: Composer | None = None) -> int:
    """Queue whatever scheduled mail is due at `now`; the number of messages queued."""
    return (digest.run_scheduled(settings, now, composer, catch_up=False)
            + expiry.warn_expiring(settings, now, composer)
            + membership.review_departures(settings, now, composer)
            + membership.remind_offers(settings, now, composer))
