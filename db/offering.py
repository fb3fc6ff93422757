"""Article 17.1: every member publishes at least one offer. Who does not, today."""
from __future__ import annotations

import datetime as dt

from .models import Listing, Member

# Members bound by the rule: applicants, suspended, expelled and former members are not.
BOUND = ("active",)


def current_offers(today: dt.date):
    """The members (ids) with an offer listed today."""
    return (Listing.select(Listing.member).where(Listing.kind == "offer", Listing.status == "active",
                                                 Listing.expires >= today))


def without_offer(today: dt.date, joined_before: dt.date | None = None):
    """Active members with no current offer, by number; with `joined_before`, only those
    who joined on or before that day (a newcomer is given time)."""
    query = Member.select().where(Member.status.in_(BOUND), Member.id.not_in(current_offers(today)))
    if joined_before is not None:
        query = query.where(Member.joined <= joined_before)
    return query.order_by(Member.number, Member.id)


def last_offer(member: Member) -> dt.date | None:
    """The day the member's newest offer ran or runs until; None: never offered anything."""
    newest = (Listing.select(Listing.expires).where(Listing.member == member, Listing.kind == "offer")
              .order_by(Listing.expires.desc()).first())
    return newest.expires if newest else None
