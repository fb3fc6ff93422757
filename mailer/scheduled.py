"""What `lets serve` does on a clock: digests that are due, expiry warnings, and the money
side (unit contributions, euro notices, reminders and fines), membership mail."""
from __future__ import annotations

import datetime as dt

from . import digest, dues, expiry, membership
from .compose import Composer


def run_due(settings, now: dt.datetime, composer: Composer | None = None) -> int:
    """Queue whatever scheduled mail is due at `now`; the number of messages queued."""
    composer = composer or Composer(settings)
    return (digest.run_scheduled(settings, now, composer, catch_up=False)
            + expiry.warn_expiring(settings, now, composer)
            + membership.review_departures(settings, now, composer)
            + membership.remind_offers(settings, now, composer)
            + dues.contributions_due(settings, now, composer)
            + dues.euro_due(settings, now, composer))
