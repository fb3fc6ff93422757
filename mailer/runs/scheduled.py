"""What `lets serve` does on a clock: digests that are due, announcements to send, expiry
warnings, membership mail, and the money side (unit contributions, euro notices, reminders
and fines, the prices of activities that took place)."""
from __future__ import annotations

import datetime as dt

from . import activities, announce, digest, dues, expiry, membership, sanctions
from ..message.compose import Composer


def run_due(settings, now: dt.datetime, composer: Composer | None = None, sender=None) -> int:
    """Queue whatever scheduled mail is due at `now`; the number of messages queued.

    With a `sender` (mailer/outbound/fanout.py) bulk mail goes out batch by batch as it is queued."""
    composer = composer or Composer(settings)
    return (digest.run_scheduled(settings, now, composer, catch_up=False, sender=sender)
            + announce.send_unsent(settings, now, composer, sender=sender)
            + expiry.warn_expiring(settings, now, composer)
            + membership.review_departures(settings, now, composer)
            + sanctions.review(settings, now, composer)
            + membership.remind_offers(settings, now, composer)
            + dues.contributions_due(settings, now, composer)
            + dues.euro_due(settings, now, composer)
            + activities.extend_series(settings, now, composer)
            + activities.remind_due(settings, now, composer)
            + activities.charge_due(settings, now, composer))
