"""Who gets the guide and the circle news on paper (article 8.2.2).

A member without email, or one who reads better on paper, asks the administrators
(`lets member set-paper`); the yearly euro contribution then carries `[euro]
paper_amount` for printing and postage (db/euro.py), and `lets guide print` makes the
document to post.
"""
from __future__ import annotations

import datetime as dt

from .models import Member, PaperGuide

TRADING = ("active", "leaving")


def wants(member: Member) -> bool:
    return PaperGuide.select().where(PaperGuide.member == member).exists()


def set_paper(member: Member, on: bool, *, now: dt.datetime, entered_by: str) -> bool:
    """Switch the paper copy on or off; whether anything changed."""
    if not on:
        return PaperGuide.delete().where(PaperGuide.member == member).execute() > 0
    _, created = PaperGuide.get_or_create(member=member, defaults={"since": now, "entered_by": entered_by})
    return created


def readers() -> set[int]:
    """The ids of all members with a paper copy, whatever their status."""
    return {row.member_id for row in PaperGuide.select(PaperGuide.member)}


def posted_to() -> list[Member]:
    """The members to post the guide to now: those who want it and still trade."""
    return list(Member.select().join(PaperGuide).where(Member.status.in_(TRADING)).order_by(Member.number))
