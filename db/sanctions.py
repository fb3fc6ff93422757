"""The association's sanctions (article 22, 5.5.3): warning, termination with notice, and the appeal.

A decision is kept as a Sanction with its reason and the last day of the appeal month.
During the appeal month, and while an appeal is lodged, the member is suspended (22.2),
unless the decision is a warning. An overturned decision gives the member back the
standing they had; a termination that stands ends the membership on its day (`review`).
Suspension and expulsion are decided in db/membership.py; their appeal is recorded here.
"""
from __future__ import annotations

import calendar
import datetime as dt

from . import membership
from .models import Member, MemberEvent, Sanction

KINDS = ("warning", "terminate", "suspend", "expel")
OUTCOMES = ("lodged", "upheld", "overturned")
NOTICE_WEEKS = 4          # 5.5.3: termination at year end, at least four weeks before 31 December
MIN_MONTHS = 4            # 22.1: termination with four months' notice


class SanctionError(ValueError):
    pass


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def year_end(today: dt.date, year: int | None = None) -> dt.date:
    """31 December of `year` (default this year); SanctionError when fewer than four weeks remain."""
    end = dt.date(year or today.year, 12, 31)
    if end - today < dt.timedelta(weeks=NOTICE_WEEKS):
        raise SanctionError(f"fewer than {NOTICE_WEEKS} weeks before {end} (article 5.5.3): "
                            f"terminate at the next year end with --year {end.year + 1}")
    return end


def decide(member: Member, kind: str, *, reason: str, now: dt.datetime, entered_by: str,
           effective: dt.date | None = None) -> Sanction:
    """A warning or a termination (with its `effective` day) for `member`; the member is
    suspended for the appeal month unless it is a warning. Call inside a transaction."""
    if not reason.strip():
        raise SanctionError(f"{kind} needs a --reason: the member is told why")
    if member.status not in membership.TRADING:
        raise SanctionError(f"member {member.number} is {member.status}; {kind} applies to active or leaving members")
    if kind == "terminate" and (effective is None or effective <= now.date()):
        raise SanctionError("a termination needs a day after today")
    sanction = Sanction.create(member=member, kind=kind, reason=reason.strip(), previous=member.status,
                               effective=effective, appeal_until=add_months(now.date(), 1),
                               entered_by=entered_by, created=now)
    if kind != "warning":
        membership.record(member, "suspended", reason=f"{kind} decided, appeal month (article 22.2): {reason.strip()}",
                          entered_by=entered_by, now=now)
    return sanction


def latest(member: Member) -> Sanction | None:
    """The member's newest sanction still open to an appeal outcome."""
    return (Sanction.select().where(Sanction.member == member, Sanction.outcome.in_(("", "lodged")))
            .order_by(Sanction.id.desc()).first())


def standing(member: Member) -> Sanction | None:
    """The newest sanction that is not overturned and has not yet taken full effect: for `lets member list`."""
    return (Sanction.select().where(Sanction.member == member, Sanction.outcome != "overturned",
                                    Sanction.ended == False)  # noqa: E712
            .order_by(Sanction.id.desc()).first())


def appeal(member: Member, outcome: str, *, now: dt.datetime, entered_by: str) -> Sanction:
    """Record the general meeting's `outcome` of the member's appeal against their newest
    decision. A suspension or expulsion decided with `lets member suspend|expel` gets its
    Sanction here. An overturned decision gives back the standing before it."""
    if outcome not in OUTCOMES:
        raise SanctionError(f"outcome is one of {', '.join(OUTCOMES)}")
    sanction = latest(member)
    if sanction is None and member.status in ("suspended", "expelled"):
        event = (MemberEvent.select().where(MemberEvent.member == member, MemberEvent.status == member.status)
                 .order_by(MemberEvent.id.desc()).first())
        sanction = Sanction.create(member=member, kind="suspend" if member.status == "suspended" else "expel",
                                   reason=event.reason if event else "", previous=event.previous if event else "",
                                   appeal_until=add_months((event.created if event else now).date(), 1),
                                   entered_by=event.entered_by if event else entered_by,
                                   created=event.created if event else now)
    if sanction is None:
        raise SanctionError(f"member {member.number} has no decision open to appeal")
    Sanction.update(outcome=outcome, closed=outcome != "lodged").where(Sanction.id == sanction.id).execute()
    sanction.outcome, sanction.closed = outcome, outcome != "lodged"
    if outcome == "overturned":
        if sanction.kind != "warning" and member.status in ("suspended", "expelled"):
            membership.record(member, sanction.previous or "active", entered_by=entered_by, now=now,
                              reason=f"appeal: the general meeting overturned the {sanction.kind}")
    elif outcome == "upheld" and sanction.kind == "terminate" and member.status == "suspended":
        # The termination stands: the member takes part until it takes effect (review).
        membership.record(member, sanction.previous or "active", entered_by=entered_by, now=now,
                          reason="appeal: the general meeting upheld the termination; until it takes effect")
    return sanction


def review(now: dt.datetime, entered_by: str = "sanctions") -> list[tuple[Sanction, str]]:
    """Take terminations a step further: after an appeal month without an appeal the member
    takes part again until the termination takes effect; on its day the membership ends.
    Returns (sanction, what happened): "resumed" or "ended". Idempotent."""
    today, done = now.date(), []
    for sanction in Sanction.select().where(Sanction.kind == "terminate", Sanction.ended == False,  # noqa: E712
                                            Sanction.outcome != "overturned").order_by(Sanction.id):
        member = Member.get_by_id(sanction.member_id)
        if sanction.effective <= today:
            if member.status in ("active", "leaving", "suspended"):
                membership.withdraw_listings(member)
                membership.record(member, "left", entered_by=entered_by, now=now,
                                  reason=f"terminated by the association (article 22): {sanction.reason}")
            Sanction.update(ended=True, closed=True).where(Sanction.id == sanction.id).execute()
            done.append((sanction, "ended"))
        elif not sanction.closed and sanction.outcome == "" and sanction.appeal_until < today:
            Sanction.update(closed=True).where(Sanction.id == sanction.id).execute()
            if member.status == "suspended":
                membership.record(member, sanction.previous or "active", entered_by=entered_by, now=now,
                                  reason="no appeal in the appeal month: the termination stands, until it takes effect")
            done.append((sanction, "resumed"))
    return done


def described(member: Member) -> str:
    """The member's standing sanction in a few words for `lets member list`, or ""."""
    sanction = standing(member)
    if sanction is None or (sanction.kind in ("suspend", "expel") and sanction.outcome == "upheld"):
        return ""
    words = {"warning": "warned", "terminate": "terminated", "suspend": "suspended", "expel": "expelled"}[sanction.kind]
    words += f" {sanction.created:%Y-%m-%d}"
    if sanction.effective:
        words += f", ends {sanction.effective}"
    if sanction.outcome:
        words += f", appeal {sanction.outcome}"
    elif sanction.appeal_until:
        words += f", appeal until {sanction.appeal_until}"
    return words
