"""The year's accounts, as a list of sections: the unit side from the ledger, the euro side
from the euro tables. A section is a function of the year returning a Section; a new
part of the report (budgets, claims, members not positive in two years) is one more
function appended to SECTIONS.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import JOIN, fn

from . import contributions, euro
from .budgets import summaries as budget_summaries
from .donors import income as donor_gifts
from .positive import not_positive
from .models import Account, EuroCharge, EuroPayment, EuroStep, Listing, Member, Transfer

FINE_BY = "euro"          # entered_by of the year-end fines (mailer/runs/euro.py)
UNIT, EUR, COUNT = "unit", "EUR", "count"
POSITIVE_YEARS = 2        # the regulations: positive at least once every two years


@dataclass(frozen=True)
class Row:
    label: str
    value: int                 # cents for UNIT and EUR, a number for COUNT
    kind: str = UNIT


@dataclass
class Section:
    name: str                  # a stable name: the first column of the CSV
    title: str
    rows: list[Row] = field(default_factory=list)


def _bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)


def _booked_in(year: int):
    start, end = _bounds(year)
    return (Transfer.state == "booked") & (Transfer.booked >= start) & (Transfer.booked < end)


def _levies(year: int, entered_by: str) -> tuple[int, int]:
    count, total = (Transfer.select(fn.COUNT(Transfer.id), fn.SUM(Transfer.amount_cents))
                    .where(_booked_in(year), Transfer.initiator == "levy", Transfer.entered_by == entered_by)
                    .tuples().get())
    return int(count or 0), int(total or 0)


def unit_contributions(year: int) -> Section:
    count, total = _levies(year, contributions.LEVY_BY)
    # Given back to who cancelled within a month of signing up: the reversals of those levies.
    levy = Transfer.alias()
    refunded = (Transfer.select(fn.SUM(Transfer.amount_cents)).join(levy, on=(Transfer.reverses == levy.id))
                .where(_booked_in(year), levy.initiator == "levy", levy.entered_by == contributions.LEVY_BY)
                .scalar())
    return Section("contributions", "Contributions received (unit)",
                   [Row("members charged", count, COUNT), Row("received", total),
                    Row("refunded", int(refunded or 0))])


def fines(year: int) -> Section:
    """The fines for the year's unpaid euro contributions (article 8.2.3): they belong to
    the year they punish, though booked on 1 January of the next (mailer/runs/euro.py keeps
    each fine's transfer on its `fine` step)."""
    count, total = (Transfer.select(fn.COUNT(Transfer.id), fn.SUM(Transfer.amount_cents))
                    .join(EuroStep, on=(EuroStep.transfer == Transfer.id))
                    .where(EuroStep.step == "fine", EuroStep.year == year, Transfer.state == "booked",
                           Transfer.initiator == "levy", Transfer.entered_by == FINE_BY)
                    .tuples().get())
    return Section("fines", f"Fines for euro contributions of {year} left unpaid (unit)",
                   [Row("fines", int(count or 0), COUNT), Row("received", int(total or 0))])


def _trades(year: int, *columns):
    """Trades between members: booked transfers from one member's account to another's."""
    payer, payee = Account.alias(), Account.alias()
    return (Transfer.select(*columns)
            .join(payer, on=(Transfer.payer == payer.id))
            .switch(Transfer).join(payee, on=(Transfer.payee == payee.id))
            .where(_booked_in(year), Transfer.initiator != "levy",
                   payer.member.is_null(False), payee.member.is_null(False)))


def volume(year: int) -> Section:
    count, total = _trades(year, fn.COUNT(Transfer.id), fn.SUM(Transfer.amount_cents)).tuples().get()
    return Section("volume", "Volume traded between members",
                   [Row("transfers", int(count or 0), COUNT), Row("volume", int(total or 0))])


def volume_by_month(year: int) -> Section:
    """The volume of `volume`, per month of booking; every month, the quiet ones too."""
    months = {month: 0 for month in range(1, 13)}
    # Bucketed here rather than by the database: SQLite and PostgreSQL name the month
    # differently, and a year's trades are a few thousand rows.
    for booked, cents in _trades(year, Transfer.booked, Transfer.amount_cents).tuples():
        months[booked.month] += cents
    return Section("volume-month", f"Volume traded per month in {year}",
                   [Row(f"{year}-{month:02d}", cents) for month, cents in months.items()])


NO_CATEGORY = "none"      # a trade that named no offer or request


def volume_by_category(year: int) -> Section:
    """The volume of `volume`, per category of the offer or request traded; largest first."""
    totals: dict[str, int] = {}
    query = (_trades(year, Listing.category, Transfer.amount_cents)
             .switch(Transfer).join(Listing, JOIN.LEFT_OUTER, on=(Transfer.listing == Listing.id)))
    for category, cents in query.tuples():
        code = category or NO_CATEGORY
        totals[code] = totals.get(code, 0) + cents
    return Section("volume-category", f"Volume traded per category in {year}",
                   [Row(code, cents) for code, cents in sorted(totals.items(), key=lambda item: (-item[1], item[0]))])


def _balances_at(end: dt.datetime) -> dict[int, int]:
    """Every account's balance from the journal, booked before `end`: account id → cents."""
    booked = (Transfer.state == "booked") & (Transfer.booked < end)
    sums: dict[int, int] = {}
    for column, sign in ((Transfer.payer, -1), (Transfer.payee, 1)):
        for account_id, total in (Transfer.select(column, fn.SUM(Transfer.amount_cents)).where(booked)
                                  .group_by(column).tuples()):
            sums[account_id] = sums.get(account_id, 0) + sign * int(total)
    return sums


def balances(year: int) -> Section:
    """Every account's balance at the end of the year (from the journal), and their total."""
    sums = _balances_at(_bounds(year)[1])
    rows = []
    query = (Account.select(Account, Member).join(Member, JOIN.LEFT_OUTER)
             .order_by(Member.number.is_null(True), Member.number, Account.code))
    for account in query:
        label = f"{account.member.number} {account.member.name}" if account.member_id else account.code
        rows.append(Row(label, sums.get(account.id, 0)))
    rows.append(Row("total", sum(sums.values())))
    return Section("balances", f"Balances at the end of {year}", rows)


BINS = 10                 # at most this many bars in the balance distribution


def _bin_width(low: int, high: int) -> int:
    """A round width in cents (1, 2 or 5 times a power of ten units) that covers
    low..high in at most BINS bins, each bin starting on a multiple of it."""
    width = 100
    while True:
        for step in (1, 2, 5):
            if (high // (width * step) - low // (width * step)) + 1 <= BINS:
                return width * step
        width *= 10


def balance_distribution(year: int) -> Section:
    """How many members' accounts ended the year in each band of balance: from the
    lower edge (included) to the upper (not); labels in whole units, e.g. "-100 to -50"."""
    sums = _balances_at(_bounds(year)[1])
    accounts = Account.select(Account.id).where(Account.member.is_null(False))
    balances = [sums.get(account_id, 0) for (account_id,) in accounts.tuples()]
    if not balances:
        return Section("balance-distribution", f"Members' balances at the end of {year}", [])
    width = _bin_width(min(balances), max(balances))
    first, last = min(balances) // width, max(balances) // width
    counts = {band: 0 for band in range(first, last + 1)}
    for cents in balances:
        counts[cents // width] += 1
    return Section("balance-distribution", f"Members' balances at the end of {year}",
                   [Row(f"{band * width // 100} to {(band + 1) * width // 100}", count, COUNT)
                    for band, count in counts.items()])


def euro_summary(year: int) -> Section:
    def charged(*kinds):
        return int(EuroCharge.select(fn.SUM(EuroCharge.amount_cents)).where(
            EuroCharge.year == year, EuroCharge.kind.in_(kinds)).scalar() or 0)

    def credited(kind):
        return int(EuroPayment.select(fn.SUM(EuroPayment.amount_cents)).where(
            EuroPayment.year == year, EuroPayment.kind == kind).scalar() or 0)

    owed = [row for row in status(year) if row["owed"] > 0]
    return Section("euro", f"Euro contributions {year}", [
        Row("contributions due", charged("contribution"), EUR),
        Row("registration fees due", charged("registration"), EUR),
        Row("surcharges", charged("surcharge"), EUR),
        Row("refunded", -charged("refund"), EUR),
        Row("balances settled on leaving", charged("settlement"), EUR),
        Row("paid", credited("payment"), EUR),
        Row("paid back", -credited("repayment"), EUR),
        Row("waived", credited("waiver"), EUR),
        Row("overdue", sum(row["owed"] for row in owed), EUR),
        Row("members overdue", len(owed), COUNT),
    ])


def euro_overdue(year: int) -> Section:
    return Section("euro-overdue", f"Members who still owe for {year}",
                   [Row(f"{row['number']} {row['name']}", row["owed"], EUR)
                    for row in status(year) if row["owed"] > 0])


def status(year: int) -> list[dict]:
    """Per member with euro charges in `year`: charged, paid, waived, owed, last step."""
    members = (Member.select().join(EuroCharge).where(EuroCharge.year == year).distinct()
               .order_by(Member.number))
    rows = []
    for member in members:
        charges = EuroCharge.select(fn.SUM(EuroCharge.amount_cents)).where(
            EuroCharge.member == member, EuroCharge.year == year)
        credits = dict(EuroPayment.select(EuroPayment.kind, fn.SUM(EuroPayment.amount_cents)).where(
            EuroPayment.member == member, EuroPayment.year == year).group_by(EuroPayment.kind).tuples())
        last = (EuroStep.select().where(EuroStep.member == member, EuroStep.year == year)
                .order_by(EuroStep.id.desc()).first())
        rows.append({
            "number": member.number, "name": member.name, "category": member.income_category,
            "charged": int(charges.scalar() or 0), "paid": int(credits.get("payment") or 0),
            "waived": int(credits.get("waiver") or 0), "owed": euro.outstanding_cents(member, year),
            "postponed": euro.postponed_until(member, year), "step": last.step if last else "",
        })
    return rows


def budgets_allocated_and_spent(year: int) -> Section:
    """Per budget: allocated into it and spent from it (claims paid) in the year, what is left now."""
    rows, allocated, spent = [], 0, 0
    for summary in budget_summaries(year):
        name = summary.budget.name
        rows += [Row(f"{name} allocated", summary.allocated), Row(f"{name} spent", summary.spent),
                 Row(f"{name} left", summary.balance)]
        allocated, spent = allocated + summary.allocated, spent + summary.spent
    return Section("budgets", f"Budgets allocated and spent in {year}",
                   rows + [Row("allocated", allocated), Row("spent", spent)])


def members_not_positive(year: int, today: dt.date | None = None, years: int = POSITIVE_YEARS) -> Section:
    """Members whose balance was below zero all through the last `years` years, counted
    back from today (the rule looks at the present, whatever year the report is for):
    each with the highest balance they had in that time."""
    today = today or dt.date.today()
    return Section("not-positive", f"Members not positive in the {years} years up to {today.isoformat()}",
                   [Row(f"{row.member.number} {row.member.name}", row.highest) for row in not_positive(today, years)])


def donor_income(year: int) -> Section:
    """Donors' gifts paid in the year (article 6): euro income beside the contributions."""
    total, givers = donor_gifts(year)
    return Section("donors", f"Donors' gifts {year}",
                   [Row("gifts received", total, EUR), Row("donors who gave", givers, COUNT)])


SECTIONS = [unit_contributions, fines, volume, volume_by_month, volume_by_category, balances,
            balance_distribution, euro_summary, euro_overdue, donor_income,
            budgets_allocated_and_spent, members_not_positive]


def build(year: int, today: dt.date | None = None) -> list[Section]:
    """Every section for `year`; `today` for those that look back from the present."""
    return [section(year, today=today) if section is members_not_positive else section(year)
            for section in SECTIONS]
