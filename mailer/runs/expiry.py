"""Listings about to expire: a warning `[listings] warn_days` before, a last notice when it has.

A poster gets at most one such mail per listing per week (a Notice row per listing
remembers the last one), so a scheduler that runs every minute sends no more.
"""
from __future__ import annotations

import datetime as dt

from db import database
from db.models import Listing, Member, Notice

from ..message.compose import Composer
from ..outbound.outbox import enqueue

QUIET = dt.timedelta(days=7)


def warn_expiring(settings, now: dt.datetime, composer: Composer | None = None) -> int:
    """Queue the warnings and last notices that are due; the number queued."""
    composer = composer or Composer(settings)
    today = now.date()
    horizon = today + dt.timedelta(days=settings.listings.warn_days)
    query = (Listing.select(Listing, Member).join(Member)
             .where(Listing.status == "active", Listing.expires <= horizon).order_by(Listing.id))
    queued = 0
    for listing in query.iterator():
        address = listing.member.primary_address
        if not address:
            continue
        template = "expiry/expired" if listing.expires < today else "expiry/warning"
        with database.atomic():
            notice = Notice.get_or_none(Notice.address == address, Notice.kind == f"expiry:{listing.id}")
            if notice is not None and notice.sent_at > now - QUIET:
                continue
            if notice is None:
                Notice.create(address=address, kind=f"expiry:{listing.id}", sent_at=now)
            else:
                Notice.update(sent_at=now).where(Notice.id == notice.id).execute()
            if template == "expiry/expired":
                Listing.update(status="expired").where(Listing.id == listing.id).execute()
            enqueue(composer.compose(template, listing.member.language, {"listing": listing},
                                     to=address, kind=template))
        queued += 1
    return queued
