"""Leaving the group: a notice, its effective day, the leaving period and the settlement.

Within `[membership] cancel_months` of joining a member may cancel: the membership ends
the same day. Later, a notice given by `notice_by` (1 December) takes effect at once; a
notice after it lets the membership run to the end of the next year. On the effective
day a member with a balance of zero or more leaves (status `left`, listings withdrawn);
with a negative balance the member is `leaving`: may still trade, must reach zero within
`leaving_months`, and after that the administrators settle (in euros at the exchange
rate, booked against the association account) or keep the member on.
"""
from __future__ import annotations

import datetime as dt

from . import euro, ledger, members
from .limits import add_months
from .membership import TRADING, record, withdraw_listings
from .models import Account, Departure, Member

OPEN = ("waiting", "leaving", "due")


class DepartureError(ValueError):
    """`code`: inactive, already, not-leaving."""

    def __init__(self, code: str, departure: Departure | None = None):
        super().__init__(code)
        self.code = code
        self.departure = departure


def euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def euro_outstanding(member: Member, year: int) -> int:
    """The member's unpaid euro contribution for `year`, in euro cents; leaving at once needs 0."""
    return max(0, euro.outstanding_cents(member, year))


def effective_day(given: dt.date, kind: str, settings) -> dt.date:
    """The day the membership ends: at once, or the end of next year after the notice deadline."""
    if kind == "cancel":
        return given
    month, day = (int(part) for part in settings.membership.notice_by.split("-"))
    return given if given <= dt.date(given.year, month, day) else dt.date(given.year + 1, 12, 31)


def may_cancel(member: Member, today: dt.date, settings) -> bool:
    return today < add_months(member.joined, settings.membership.cancel_months)


def current(member: Member) -> Departure | None:
    return (Departure.select().where(Departure.member == member, Departure.state.in_(OPEN))
            .order_by(Departure.id.desc()).first())


def give_notice(member: Member, *, now: dt.datetime, settings, entered_by: str) -> Departure:
    """Record a member's notice (a cancellation in the first month) and end it when due today."""
    if member.status not in TRADING:
        raise DepartureError("inactive")
    existing = current(member)
    if existing is not None:
        raise DepartureError("already", existing)
    today = now.date()
    kind = "cancel" if may_cancel(member, today, settings) else "notice"
    departure = Departure.create(member=member, kind=kind, given=today, state="waiting",
                                 effective=effective_day(today, kind, settings), entered_by=entered_by)
    if kind == "cancel":
        # The regulations refund the year's euro contribution, never the registration fee.
        euro.refund_contributions(member, today.year, "cancelled within the first month", on=today)
    if departure.effective <= today:
        end(departure, now=now, settings=settings)
    return departure


def end(departure: Departure, *, now: dt.datetime, settings) -> str:
    """The effective day has come: `left` with nothing owed, else `leaving` with a deadline."""
    member = Member.get_by_id(departure.member_id)
    if _owes_nothing(member, departure, now.date()):
        _leave(member, departure, now, reason=f"{departure.kind} given {departure.given}")
    else:
        departure.state = "leaving"
        departure.deadline = add_months(now.date(), settings.membership.leaving_months)
        departure.save()
        if member.status != "leaving":
            record(member, "leaving", reason=f"{departure.kind} given {departure.given}; balance below zero",
                   entered_by=departure.entered_by, now=now)
    return departure.state


def _owes_nothing(member: Member, departure: Departure, today: dt.date) -> bool:
    if members.account(member).balance_cents < 0:
        return False
    # A cancellation in the first month is refunded, so no euro contribution is due for it.
    return departure.kind == "cancel" or euro_outstanding(member, today.year) <= 0


def _leave(member: Member, departure: Departure, now: dt.datetime, *, reason: str, state: str = "left") -> None:
    withdraw_listings(member)
    record(member, "left", reason=reason, entered_by=departure.entered_by, now=now)
    departure.state, departure.closed = state, now
    departure.save()


def review(departure: Departure, *, now: dt.datetime, settings) -> str:
    """A scheduled look at an open departure; the state it is in afterwards.

    waiting → ended on its effective day; leaving → left once the balance is back at zero,
    or `due` (the administrators are to settle) when the deadline has passed."""
    today = now.date()
    member = Member.get_by_id(departure.member_id)
    if departure.state == "waiting":
        return end(departure, now=now, settings=settings) if departure.effective <= today else "waiting"
    if departure.state in ("leaving", "due") and _owes_nothing(member, departure, today):
        _leave(member, departure, now, reason="balance back at zero")
        return "left"
    if departure.state == "leaving" and today > departure.deadline:
        departure.state = "due"
        departure.save()
    return departure.state


def settle(member: Member, *, keep: bool, now: dt.datetime, settings, entered_by: str) -> tuple[Departure, int]:
    """The administrators' decision on a leaving member: (departure, euro cents to pay).

    keep: the member stays on (active again). Otherwise the negative balance is booked to
    zero against the association account and the member leaves owing its euro value."""
    departure = current(member)
    if departure is None or departure.state not in ("leaving", "due"):
        raise DepartureError("not-leaving", departure)
    if keep:
        departure.state, departure.closed = "kept", now
        departure.save()
        record(member, "active", reason="kept on by the administrators", entered_by=entered_by, now=now)
        return departure, 0
    account = members.account(member)
    debt = max(0, -account.balance_cents)
    euro_cents = debt * settings.membership.euro_cents_per_unit // 100
    if debt:
        association = Account.get(Account.code == "association")
        ledger.transfer_now(association, account, debt,
                            f"settlement on leaving: EUR {euros(euro_cents)}",
                            limits=settings.limits, now=now, entered_by=entered_by)
    if euro_cents:
        # The unit debt the association took over is now owed in euros, like a contribution.
        euro.charge(member, now.year, "settlement", euro_cents, f"settlement:{departure.id}", on=now.date(),
                    reason=f"balance of {debt // 100}.{debt % 100:02d} units settled on leaving")
    _leave(member, departure, now, reason=f"settled: EUR {euros(euro_cents)}", state="settled")
    return departure, euro_cents
