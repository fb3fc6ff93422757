"""Advice for a member near a limit: how many listings in the group fit what they do.

Near the lower limit a member should earn: we count the active requests of others
whose category is one the member offers. Near the upper limit a member should spend:
we count the active offers of others in the categories the member asks for.
"""
from __future__ import annotations

import datetime as dt

from . import ledger
from .categories import OTHER
from .models import Account, Listing, Member
from .prepared import by_id

# What the member posts → what others post that fits it.
FITS = {"lower": ("offer", "request"), "upper": ("request", "offer")}


def matches(member: Member, side: str, today: dt.date) -> int:
    """Active listings of other members that fit the member's own, for the limit `side`."""
    own_kind, other_kind = FITS[side]
    # "other" is where what fits no category goes: two such listings need not fit each other.
    active = (Listing.status == "active") & (Listing.expires >= today) & Listing.category.not_in(("", OTHER))
    categories = (Listing.select(Listing.category)
                  .where(active, Listing.member == member, Listing.kind == own_kind))
    return (Listing.select().where(active, Listing.member != member, Listing.kind == other_kind,
                                   Listing.category.in_(categories)).count())


def for_receipt(account: Account, limits, now: dt.datetime, balance: int | None = None) -> dict | None:
    """One line's worth of advice while the balance is within the margin of a limit.

    `first` is true on the first receipt of an approach: the friendly warning is given
    once, the advice on every receipt near the limit. `balance` is the account's
    balance when the caller has just read it."""
    near = ledger.near_limit(account, limits, now.date(), balance)
    # Called on every receipt, also away from the limits: leaving the margin re-arms the warning.
    first = ledger.limit_warning(account, limits, now.date(), now, near=near) is not None
    if near is None or account.member_id is None:
        return None
    member = by_id(Member, account.member_id)
    return {**near, "first": first, "matches": matches(member, near["side"], now.date())}
