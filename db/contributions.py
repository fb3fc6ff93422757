"""The contribution in the local unit: who owes what for a period, charged once per member.

A period is named by a label: 2026Q4 (quarterly), 2026-11 (monthly) or 2026 (yearly). The
contribution is charged on the period's last day, from the member's account to the
association account, through the ledger (`ledger.levy`: an obligation ignores the lower
limit). A Contribution row with a unique (member, period) key is written in the same
transaction as the transfer, so a run repeated, restarted or late charges each member once.
Suspension is no exemption (articles 8.1, 22): only the core group's waiver is, for a
period or for a whole year (a row for the year's label, 2027, covers its quarters and
months), or its postponement (article 8.3.3): periods that end before the day it runs
until are charged by the first run from that day on.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from peewee import IntegrityError

from . import ledger, liability, limits as limit_rules, members
from .models import Account, Contribution, ContributionPostponement, Member, Notice, Transfer

PAYING_TYPES = ("regular", "household", "organisation")   # honorary and guest members pay none
# A suspended member is still a member and owes like one; applicants, former and
# expelled members owe nothing.
PAYING_STATUSES = ("active", "leaving", "suspended")
LEVY_BY = "contributions"


class ContributionError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date      # first day
    end: dt.date        # the day after the last

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _month_after(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1)


def parse_period(label: str) -> Period:
    """2026Q4, 2026-11 or 2026; ContributionError otherwise."""
    text = label.strip().upper()
    if m := re.fullmatch(r"(\d{4})Q([1-4])", text):
        year, quarter = int(m.group(1)), int(m.group(2))
        first = 3 * quarter - 2
        return Period(text, dt.date(year, first, 1), _month_after(year, first + 2))
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12:
            return Period(f"{year}-{month:02d}", dt.date(year, month, 1), _month_after(year, month))
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return Period(text, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    raise ContributionError(f"not a period: {label!r} (use 2026Q4, 2026-11 or 2026)")


def period_of(day: dt.date, kind: str) -> Period:
    """The period of kind monthly|quarterly|yearly that contains `day`."""
    if kind == "monthly":
        return parse_period(f"{day.year}-{day.month:02d}")
    if kind == "quarterly":
        return parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}")
    if kind == "yearly":
        return parse_period(str(day.year))
    raise ContributionError(f"[contributions] period must be monthly, quarterly or yearly, not {kind!r}")


def _day_after(moment: dt.datetime) -> dt.date:
    return moment.date() + dt.timedelta(days=1)


def average_balance(account: Account, start: dt.date, end: dt.date) -> int:
    """The account's balance averaged over the days from `start` up to `end` (exclusive),
    each day counted with its closing balance; integer hundredths, rounded down."""
    if end <= start:
        return 0
    moments = (Transfer.select(Transfer.booked, Transfer.payer, Transfer.amount_cents)
               .where(Transfer.state == "booked", (Transfer.payer == account) | (Transfer.payee == account))
               .order_by(Transfer.number))
    # The closing balance of day d is the sum of transfers booked before d + 1.
    changes: dict[dt.date, int] = {}
    opening = 0
    for row in moments:
        signed = -row.amount_cents if row.payer_id == account.id else row.amount_cents
        day = row.booked.date()
        if day < start:
            opening += signed
        elif day < end:
            changes[day] = changes.get(day, 0) + signed
    total, balance, day = 0, opening, start
    while day < end:
        balance += changes.get(day, 0)
        total += balance
        day += dt.timedelta(days=1)
    return total // (end - start).days


@dataclass(frozen=True)
class Due:
    member: Member
    amount_cents: int
    fixed_cents: int
    fee_cents: int
    liable_from: dt.date


def due(member: Member, period: Period, settings) -> Due | None:
    """What `member` owes for `period`, or None when the member pays nothing for it."""
    rules = settings.contributions
    if member.type not in PAYING_TYPES or member.status not in PAYING_STATUSES:
        return None
    if not liability.owes_from(member, period.start, in_unit=True):
        return None
    liable_from = limit_rules.add_months(member.joined, rules.newcomer_exempt_months) \
        if rules.newcomer_exempt_months else member.joined
    if liable_from >= period.end:
        return None
    if liable_from > period.start and not rules.prorata:
        return None
    start = max(liable_from, period.start)
    fixed = rules.amount * 100 * (period.end - start).days // period.days
    fee = 0
    if rules.permille:
        average = average_balance(members.account(member), start, period.end)
        fee = max(0, average) * rules.permille // 1000
    if fixed + fee <= 0:
        return None
    return Due(member, fixed + fee, fixed, fee, start)


def candidates() -> list[Member]:
    return list(Member.select().where(Member.type.in_(PAYING_TYPES), Member.status.in_(PAYING_STATUSES))
                .order_by(Member.number))


def settled(member: Member, period: Period) -> Contribution | None:
    """The member's contribution row for the period: charged or waived, or the waiver of
    the period's whole year; None while open."""
    year = str(period.start.year)
    rows = {row.period: row for row in Contribution.select().where(
        Contribution.member == member, Contribution.period.in_({period.label, year}))}
    if period.label in rows:
        return rows[period.label]
    waived = rows.get(year)
    return waived if waived is not None and waived.state == "waived" else None


def postpone(member: Member, until: dt.date, reason: str, *, now: dt.datetime,
             entered_by: str) -> ContributionPostponement:
    """The core group's postponement (article 8.3.3): periods ending before `until` wait."""
    if not reason.strip():
        raise ContributionError("a postponement needs a reason")
    if until <= now.date():
        raise ContributionError(f"--until {until} is not in the future")
    return ContributionPostponement.create(member=member, until=until, reason=reason.strip(),
                                           entered_by=entered_by, created=now)


def postponed(member: Member, period: Period, today: dt.date) -> dt.date | None:
    """The day a postponement of `period` runs until, while it still runs; else None."""
    rows = ContributionPostponement.select().where(ContributionPostponement.member == member,
                                                   ContributionPostponement.until > today)
    untils = [row.until for row in rows if row.created.date() <= period.last_day < row.until]
    return max(untils) if untils else None


def postponed_due(member: Member, today: dt.date, kind: str) -> list[Period]:
    """Periods a postponement that has run out held back and that are still open: each one
    whose last day fell between the postponement and the day it ran until."""
    periods = []
    for row in ContributionPostponement.select().where(ContributionPostponement.member == member,
                                                       ContributionPostponement.until <= today):
        period = period_of(row.created.date(), kind)
        while period.last_day < row.until:
            if period.last_day >= row.created.date() and settled(member, period) is None \
                    and period.label not in {p.label for p in periods}:
                periods.append(period)
            period = period_of(period.end, kind)
    return periods


def charge(owed: Due, period: Period, settings, *, now: dt.datetime) -> tuple[Contribution, ledger.Booking] | None:
    """Debit one member's contribution; None when the period is already settled for them.

    Call inside the transaction that also queues the member's notice."""
    if settled(owed.member, period) is not None:
        return None
    payer = members.account(owed.member)
    association = Account.get(Account.code == "association")
    booking = ledger.levy(payer, association, owed.amount_cents, f"contribution {period.label}",
                          now=now, entered_by=LEVY_BY, limits=settings.limits)
    try:
        row = Contribution.create(member=owed.member, period=period.label, state="charged",
                                  amount_cents=owed.amount_cents, transfer=booking.transfer,
                                  entered_by=LEVY_BY, created=now)
    except IntegrityError:
        # A concurrent run charged this member first: the caller's transaction rolls back.
        raise ContributionError(f"member {owed.member.number} was charged for {period.label} concurrently")
    return row, booking


def refund(member: Member, *, now: dt.datetime, limits) -> int:
    """Give back every contribution charged to `member` (a cancellation within a month of
    signing up, article 5.4): each debit is reversed in the ledger and its row marked
    `refunded`, so it is neither refunded twice nor charged again. The cents given back."""
    total = 0
    for row in (Contribution.select().where(Contribution.member == member, Contribution.state == "charged",
                                            Contribution.transfer.is_null(False))
                .order_by(Contribution.id)):
        ledger.reverse(row.transfer.number, now=now, entered_by=LEVY_BY, limits=limits)
        Contribution.update(state="refunded").where(Contribution.id == row.id).execute()
        total += row.amount_cents
    return total


def notice_key(member: Member, period: Period) -> tuple[str, str]:
    """The (address, kind) of the Notice row that records the member's advance notice."""
    return f"contribution:{member.id}", f"notify:{period.label}"


def was_notified(member: Member, period: Period) -> bool:
    address, kind = notice_key(member, period)
    return Notice.select().where(Notice.address == address, Notice.kind == kind).exists()


def waive(member: Member, period: Period, reason: str, *, now: dt.datetime, entered_by: str) -> Contribution:
    """Record that `member` pays nothing for `period`; refused once charged or waived."""
    if not reason.strip():
        raise ContributionError("a waiver needs a reason")
    existing = settled(member, period)
    if existing is not None:
        raise ContributionError(f"{member.name} (member {member.number}) is already {existing.state} "
                                f"for {period.label}")
    return Contribution.create(member=member, period=period.label, state="waived", reason=reason.strip(),
                               entered_by=entered_by, created=now)
