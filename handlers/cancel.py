"""OPZEGGEN / CANCEL / RÉSILIER: a member ends the membership.

In the first month it ends at once (a cancellation); later it is a notice of leaving
with its effective day (db/departures.py). The member is told what happens and when.
"""
from __future__ import annotations

import datetime as dt

from db import departures, members
from db.models import Departure, Member

from . import Command, Context, Refusal, Reply

TEMPLATES = {"left": "cancel/left", "leaving": "cancel/leaving", "waiting": "cancel/waiting"}


def handle(command: Command, ctx: Context) -> list[Reply]:
    try:
        departure = departures.give_notice(ctx.member, now=ctx.now, settings=ctx.settings,
                                           entered_by=ctx.sender)
    except departures.DepartureError as exc:
        raise Refusal("cancel/already", **context(exc.departure, ctx.member)) from None
    return [Reply(TEMPLATES[departure.state], context(departure, ctx.member))]


def context(departure: Departure | None, member: Member) -> dict:
    return {"name": member.name, "number": member.number, "kind": departure.kind if departure else "",
            "state": departure.state if departure else member.status,
            "given": departure.given if departure else None,
            "effective": departure.effective if departure else None,
            "deadline": departure.deadline if departure else None,
            "balance": members.account(member).balance_cents,
            # Leaving also waits for the year's euro contribution (the regulations' "paid up").
            "euro_year": _year(departure), "euro_owed": departures.euro_outstanding(member, _year(departure))}


def _year(departure: Departure | None) -> int:
    return (departure.effective if departure else dt.date.today()).year


def told(departure: Departure, member: Member) -> Reply:
    """What the member hears about the departure's state: left, leaving or waiting."""
    return Reply(TEMPLATES[departure.state], context(departure, member), to=member.primary_address)
