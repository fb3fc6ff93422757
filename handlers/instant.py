"""Members who chose DIGEST DIRECT / INSTANT get each new offer or request as it is posted.

The mails are replies of the posting command, so they are queued in the same
transaction as the listing: posted and announced, or neither.
"""
from __future__ import annotations

from peewee import JOIN

from db.models import Address, Listing, Member, MemberPreference
from db.prepared import Prepared

from . import Context, Reply


_instant = Prepared(lambda: (
    Member.select(Member, Address.email.alias("email"), MemberPreference.categories.alias("only"))
    .join(Address).switch(Member).join(MemberPreference, join_type=JOIN.LEFT_OUTER)
    .where(Member.digest == "instant", Member.status.in_(("active", "leaving")),
           Address.primary == True, Address.failing == False)), 0)  # noqa: E712


def notify(listing: Listing, ctx: Context) -> list[Reply]:
    # Asked for every posted listing: one SQL text (db/prepared.py); the poster is left
    # out here rather than in SQL, so the statement never changes.
    query = [member for member in _instant.rows(Member) if member.id != listing.member_id]
    replies = []
    for member in query:
        only = [c for c in (member.only or "").split(",") if c]
        if only and listing.category not in only:
            continue
        replies.append(Reply("instant/posted", {
            "listing": listing, "poster": listing.member,
            "show_addresses": ctx.settings.privacy.show_addresses,
        }, to=member.email, bulk=True, listing_id=listing.id))
    return replies
