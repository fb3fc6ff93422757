"""Offers and requests: posting, withdrawing, renewing and looking them up."""
from __future__ import annotations

import datetime as dt

from .categories import Categories
from .models import Listing, Member, MemberPreference
from .prepared import prepared_insert


def post(member: Member, kind: str, *, title: str, expires: dt.date, description: str = "",
         category: str = "", level: str = "", rate_cents: int | None = None,
         rate_text: str = "", source=None) -> Listing:
    return _insert(member=member, kind=kind, title=title, description=description,
                   category=category, level=level, rate_cents=rate_cents,
                   rate_text=rate_text, expires=expires, source=source)


_insert = prepared_insert(Listing)


def current(today: dt.date, *, kind: str | None = None, category: str | None = None,
            member: Member | None = None):
    """Active listings that have not expired, newest first."""
    query = (Listing.select(Listing, Member).join(Member)
             .where(Listing.status == "active", Listing.expires >= today))
    if kind:
        query = query.where(Listing.kind == kind)
    if category:
        query = query.where(Listing.category == category)
    if member is not None:
        query = query.where(Listing.member == member)
    return query.order_by(Listing.kind, Listing.category, Listing.created.desc())


def own(member: Member):
    """A member's listings that are still worth showing: active or expired, not withdrawn."""
    return (Listing.select().where(Listing.member == member, Listing.status != "withdrawn")
            .order_by(Listing.created.desc()))


def withdraw(listing: Listing) -> None:
    listing.status = "withdrawn"
    listing.save()


def renew(listing: Listing, expires: dt.date) -> None:
    listing.status = "active"
    listing.expires = expires
    listing.save()


def recode(categories: Categories) -> int:
    """Bring stored categories onto the group's list; how many listings moved.

    A listing's category that is no code of the list (free text from before the list, or
    a code the administrators removed) becomes the code it names, else `other`. An ONLY
    choice keeps the categories it names and drops the others: narrowing a member's
    digest to "other" for a word we no longer know would hide what they asked to see."""
    moved = 0
    stray = (Listing.select(Listing.category).where(Listing.category.not_in(categories.codes))
             .distinct().tuples())
    for (text,) in list(stray):
        moved += Listing.update(category=categories.code_for(text)).where(Listing.category == text).execute()
    for preference in MemberPreference.select().where(MemberPreference.categories != ""):
        named = [part for part in preference.categories.split(",") if part]
        codes = [code for code in categories.codes if code in {categories.find(part) for part in named}]
        if ",".join(codes) != preference.categories:
            MemberPreference.update(categories=",".join(codes)).where(MemberPreference.id == preference.id).execute()
    return moved
