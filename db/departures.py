"""Leaving the group: a notice, its effective day, the leaving period and the settlement.

Within `[membership] cancel_months` of signing up (the application, not the approval) a
member may cancel (article 5.4): the membership ends the same day and both contributions
charged so far are refunded, the unit's and the euro one, never the registration fee.
Later, a notice given by `notice_by` (1 December) takes effect at once and carries no
obligation for the next year; a notice after it lets the membership run to the end of the
next year (article 5.5.2; db/liability.py). On the effective day a member with a balance
of zero or more and no euros owed leaves (status `left`, listings withdrawn); otherwise
the member is `leaving`: may still trade, must reach zero within `leaving_months`, and
other members may pay them to help. After that the administrators are told (`due`) and
may settle in euros within `decide_days`; without that settlement the membership goes on
as a regular one (article 5.5.2): the member is active again (`continued`). Settling in
euros books the balance to zero against the association account and charges its euro
value; the member is then `settling` until the euros (that amount and the year's
contribution) are paid, and only then leaves.
"""
from __future__ import annotations

import datetime as dt

from . import contributions, euro, ledger, liability, members
from .limits import add_months
from .membership import TRADING, record, signed_up, withdraw_listings
from .models import Account, Departure, EuroCharge, Member

OPEN = liability.OPEN


class DepartureError(ValueError):
    """`code`: inactive, already, not-leaving, settling."""

    def __init__(self, code: str, departure: Departure | None = None):
        super().__init__(code)
        self.code = code
        self.departure = departure


def euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def euro_outstanding(member: Member, year: int | None = None) -> int:
    """The member's unpaid euros for the years up to `year` (every year when None), in euro
    cents; leaving needs 0."""
    return sum(max(0, owed) for owed_year, owed in euro.outstanding_by_year(member).items()
               if year is None or owed_year <= year)


def settlement(departure: Departure) -> EuroCharge | None:
    """The euro charge for the balance settled on leaving, if one was made."""
    return EuroCharge.get_or_none(EuroCharge.key == f"settlement:{departure.id}")


def effective_day(given: dt.date, kind: str, settings) -> dt.date:
    """The day the membership ends: at once, or the end of next year after the notice deadline."""
    if kind == "cancel":
        return given
    return given if given <= notice_deadline(given.year, settings) else dt.date(given.year + 1, 12, 31)


def notice_deadline(year: int, settings) -> dt.date:
    """The last day of `year` on which a notice ends the membership that year (`notice_by`)."""
    month, day = (int(part) for part in settings.membership.notice_by.split("-"))
    return dt.date(year, month, day)


def may_cancel(member: Member, today: dt.date, settings) -> bool:
    """Within `cancel_months` of signing up: the month runs from the application."""
    return today < add_months(signed_up(member), settings.membership.cancel_months)


def current(member: Member) -> Departure | None:
    return liability.open_departure(member)


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
        # Article 5.4: both contributions are refunded, never the registration fee; so a
        # contribution debited in the first month leaves no negative balance behind.
        contributions.refund(member, now=now, limits=settings.limits)
        for year in range(signed_up(member).year, today.year + 1):
            euro.refund_contributions(member, year, "cancelled within the first month", on=today)
    if departure.effective <= today:
        end(departure, now=now, settings=settings)
    return departure


def end(departure: Departure, *, now: dt.datetime, settings) -> str:
    """The effective day has come: `left` with nothing owed, else `leaving` with a deadline."""
    member = Member.get_by_id(departure.member_id)
    if _owes_nothing(member, departure):
        _leave(member, departure, now, reason=f"{departure.kind} given {departure.given}")
    else:
        departure.state = "leaving"
        departure.deadline = add_months(now.date(), settings.membership.leaving_months)
        departure.save()
        if member.status != "leaving":
            record(member, "leaving", reason=f"{departure.kind} given {departure.given}; balance below zero",
                   entered_by=departure.entered_by, now=now)
    return departure.state


def _owes_nothing(member: Member, departure: Departure) -> bool:
    if members.account(member).balance_cents < 0:
        return False
    # A cancellation in the first month is refunded: only the registration fee may be
    # left, and that does not hold the member. Otherwise every euro owed is paid first.
    return departure.kind == "cancel" or euro_outstanding(member) <= 0


def _leave(member: Member, departure: Departure, now: dt.datetime, *, reason: str, state: str = "left") -> None:
    withdraw_listings(member)
    record(member, "left", reason=reason, entered_by=departure.entered_by, now=now)
    departure.state, departure.closed = state, now
    departure.save()


def review(departure: Departure, *, now: dt.datetime, settings) -> str:
    """A scheduled look at an open departure; the state it is in afterwards.

    waiting → ended on its effective day; leaving → left once the balance is back at zero
    and the euros are paid, or `due` (the administrators may settle) when the deadline
    has passed; due → continued (active again) `decide_days` later; settling → settled
    once the euros are paid."""
    today = now.date()
    member = Member.get_by_id(departure.member_id)
    if departure.state == "waiting":
        return end(departure, now=now, settings=settings) if departure.effective <= today else "waiting"
    if departure.state in ("leaving", "due", "settling") and _owes_nothing(member, departure):
        if departure.state == "settling":
            _leave(member, departure, now, reason="settled in euros and paid", state="settled")
        else:
            _leave(member, departure, now, reason="balance back at zero and nothing owed")
        return departure.state
    if departure.state == "leaving" and today > departure.deadline:
        departure.state = "due"
        departure.save()
    if departure.state == "due" and today >= continues_on(departure, settings):
        departure.state, departure.closed = "continued", now
        departure.save()
        record(member, "active", reason=f"not settled by {departure.deadline}: a regular member again",
               entered_by=departure.entered_by, now=now)
    return departure.state


def continues_on(departure: Departure, settings) -> dt.date:
    """The day a departure the administrators did not settle becomes a regular membership
    again: `decide_days` after the day following the deadline."""
    return departure.deadline + dt.timedelta(days=1 + settings.membership.decide_days)


def settle(member: Member, *, keep: bool, now: dt.datetime, settings, entered_by: str) -> tuple[Departure, int]:
    """The administrators' decision on a leaving member: (departure, euro cents of the balance).

    keep: the member stays on (active again). Otherwise the negative balance is booked to
    zero against the association account and its euro value is charged; the member is
    `settling` until that and the year's euro contribution are paid (article 5.5.2), and
    leaves (`settled`) at once when nothing is owed."""
    member = Member.get_by_id(member.id)
    departure = current(member)
    allowed = ("leaving", "due", "settling") if keep else ("leaving", "due")
    if departure is None or departure.state not in allowed:
        raise DepartureError("settling" if departure is not None and departure.state == "settling"
                             else "not-leaving", departure)
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
    departure.state = "settling"
    departure.save()
    if _owes_nothing(member, departure):
        _leave(member, departure, now, reason=f"settled: EUR {euros(euro_cents)}", state="settled")
    else:
        record(member, member.status, entered_by=entered_by, now=now,
               reason=f"settling: EUR {euros(euro_outstanding(member))} to pay, then the membership ends")
    return departure, euro_cents
