"""OPZEGGEN / CANCEL / RÉSILIER: a member ends the membership, confirmed by a tokened reply.

A From: line is easily forged, so the first mail changes nothing: the member's own mailbox
gets what would happen and a single-use token (db/tokens.py), as a payer does for a
payment, and the notice is given only when JA/YES/OUI comes back from that address with
the token. In the first month the membership then ends at once (a cancellation); later
it is a notice of leaving with its effective day (db/departures.py). The administrators'
`lets member cancel` needs no reply.
"""
from __future__ import annotations

import datetime as dt

from db import departures, members, tokens
from db.members import normalise_address
from db.models import Departure, Member

from . import Command, Context, Refusal, Reply
from .answers import answer, find_token

TEMPLATES = {"left": "cancel/left", "leaving": "cancel/leaving", "waiting": "cancel/waiting"}
ACTION = "cancel"
PREFIX = "c"      # group+c-TOKEN@domain


def recognise(inbound, settings) -> Command | None:
    """The answer to a cancellation's confirmation: a mail carrying a `c` token."""
    token = find_token(inbound, settings, prefix=PREFIX)
    return Command("cancel-confirm", None, token, inbound.reply_text) if token else None


def handle(command: Command, ctx: Context) -> list[Reply]:
    member, settings = ctx.member, ctx.settings
    existing = departures.current(member)
    if existing is not None:
        raise Refusal("cancel/already", **context(existing, member, ctx.today))
    kind = "cancel" if departures.may_cancel(member, ctx.today, settings) else "notice"
    row, token = tokens.issue(ACTION, member, ctx.sender, now=ctx.now, days=settings.membership.confirm_days)
    effective = departures.effective_day(ctx.today, kind, settings)
    group = settings.group
    return [Reply("cancel/confirm", {
        "name": member.name, "number": member.number, "kind": kind, "token": token, "expires": row.expires,
        "effective": effective, "immediate": effective <= ctx.today,
        "balance": members.account(member).balance_cents, **rules(ctx.today.year, settings),
    }, headers={"Reply-To": f"{group.local_part}+{PREFIX}-{token}@{group.domain}"})]


def confirm(command: Command, ctx: Context) -> list[Reply]:
    """The member's JA/NEE: the notice is given once, only from the address the token went to."""
    row = tokens.find(ACTION, command.argument or "")
    if row is None or normalise_address(ctx.sender) != row.address:
        raise Refusal("cancel/unknown")
    member = Member.get_by_id(row.member_id)
    if row.used is not None:
        raise _answered(member)
    if row.expires <= ctx.now:
        raise Refusal("cancel/expired", name=member.name)
    said = answer(command.body)
    if said is None:
        raise Refusal("cancel/unclear", name=member.name)
    if not tokens.spend(type(row), row, ctx.now):
        raise _answered(member)
    if said == "no":
        return [Reply("cancel/withdrawn", {"name": member.name}, to=row.address)]
    try:
        departure = departures.give_notice(member, now=ctx.now, settings=ctx.settings, entered_by=row.address)
    except departures.DepartureError as exc:
        raise Refusal("cancel/already", **context(exc.departure, member, ctx.today)) from None
    return [Reply(TEMPLATES[departure.state], {**context(departure, member), **rules(departure.given.year, ctx.settings)},
                  to=row.address)]


def _answered(member: Member) -> Refusal:
    """A replayed answer: where the departure stands, or unknown when the member said no."""
    departure = departures.current(member)
    return Refusal("cancel/already", **context(departure, member)) if departure else Refusal("cancel/unknown")


def context(departure: Departure | None, member: Member, today: dt.date | None = None) -> dict:
    return {"name": member.name, "number": member.number, "kind": departure.kind if departure else "",
            "state": departure.state if departure else member.status,
            "given": departure.given if departure else None,
            "effective": departure.effective if departure else None,
            "deadline": departure.deadline if departure else None,
            "balance": members.account(member).balance_cents,
            # Leaving also waits for the year's euro contribution (the regulations' "paid up").
            "euro_year": _year(departure, today),
            "euro_owed": departures.euro_outstanding(member, _year(departure, today))}


def _year(departure: Departure | None, today: dt.date | None) -> int:
    """The year whose euro contribution leaving waits for: the year it takes effect, else this one."""
    day = departure.effective if departure else today
    if day is None:
        raise ValueError("a departure or today's date is needed")
    return day.year


def rules(year: int, settings) -> dict:
    """The group's own notice rules, as its mails state them (articles 5.4 and 5.5.2)."""
    return {"notice_by": departures.notice_deadline(year, settings),
            "cancel_months": settings.membership.cancel_months}


def told(departure: Departure, member: Member, settings) -> Reply:
    """What the member hears about the departure's state: left, leaving or waiting."""
    return Reply(TEMPLATES[departure.state], {**context(departure, member), **rules(departure.given.year, settings)},
                 to=member.primary_address)
