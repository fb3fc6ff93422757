"""The open bookkeeping (article 9.3.1): the group's accounts as its members may inspect them.

Every figure is read from the ledger and the euro tables as they stand; what members may
see of each other is the group's choice (`shown`, from `[privacy] books`): every trading
member's balance, only the highest and lowest, or only what members hold together. The
year's contributions and fines are the report's own figures (db/report.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import JOIN, fn

from . import ledger, report
from .budgets import Summary, summaries
from .models import Account, EuroCharge, EuroPayment, Member

SHOWN = ("all", "extremes", "totals")
TRADING = ("active", "leaving")
# "opening": where balances carried over from a former system came from (lets import balances).
SYSTEM = ("association", "solidarity", "opening")


@dataclass(frozen=True)
class Balance:
    number: int
    name: str
    cents: int


@dataclass
class Books:
    on: dt.date                     # the day the figures are of
    year: int
    shown: str
    members: int                    # trading members
    credit: int                     # what trading members above zero hold together
    debit: int                      # what trading members below zero owe together (negative)
    highest: int | None = None      # only when shown is all or extremes
    lowest: int | None = None
    balances: list[Balance] = field(default_factory=list)   # only when shown is all
    former: int = 0                 # accounts of members not trading (applicants, suspended, left)
    accounts: list[tuple[str, int]] = field(default_factory=list)   # (account name, balance)
    budgets: list[Summary] = field(default_factory=list)
    contributions: tuple[int, int] = (0, 0)     # (members charged, received) this year, in the unit
    fines: tuple[int, int] = (0, 0)             # (fines, received) this year, in the unit
    euro: dict[str, int] = field(default_factory=dict)    # due, paid, waived, open this year, in euro cents
    transfers: int = 0              # booked transfers in the journal
    head: str = ledger.GENESIS      # the journal's head hash, whole
    total: int = 0                  # all accounts together: zero when the books are sound


def build(shown: str, today: dt.date) -> Books:
    """The books of `today`'s year, showing of members' balances what `shown` allows."""
    if shown not in SHOWN:
        raise ValueError(f"books: {shown!r} is not one of {', '.join(SHOWN)}")
    year = today.year
    rows = (Account.select(Account.balance_cents, Member.number, Member.name, Member.status)
            .join(Member, JOIN.LEFT_OUTER).order_by(Member.number).tuples())
    trading, former, total = [], 0, 0
    for cents, number, name, status in rows:
        total += cents
        if number is None:
            continue
        if status in TRADING:
            trading.append(Balance(number, name, cents))
        else:
            former += cents
    books = Books(on=today, year=year, shown=shown, members=len(trading),
                  credit=sum(b.cents for b in trading if b.cents > 0),
                  debit=sum(b.cents for b in trading if b.cents < 0), former=former, total=total)
    if shown in ("all", "extremes") and trading:
        books.highest = max(b.cents for b in trading)
        books.lowest = min(b.cents for b in trading)
    if shown == "all":
        books.balances = trading
    books.accounts = [(account.name, account.balance_cents) for code in SYSTEM
                      for account in Account.select().where(Account.code == code)]
    books.budgets = summaries(year)
    books.contributions = _figures(report.unit_contributions(year))
    books.fines = _figures(report.fines(year))
    books.euro = euro_totals(year)
    head = ledger.head()
    if head is not None:
        books.transfers, books.head = head.number, head.hash
    return books


def _figures(section: report.Section) -> tuple[int, int]:
    """(count, received) of one of the report's levy sections."""
    return section.rows[0].value, section.rows[1].value


def euro_totals(year: int) -> dict[str, int]:
    """The year's euro contributions of all members together: what was due (contributions,
    registration fees and surcharges, less refunds), paid (less what was paid back),
    waived, and still open. Two queries, whatever the number of members."""
    due = int(EuroCharge.select(fn.SUM(EuroCharge.amount_cents)).where(EuroCharge.year == year).scalar() or 0)
    credits = dict(EuroPayment.select(EuroPayment.kind, fn.SUM(EuroPayment.amount_cents))
                   .where(EuroPayment.year == year).group_by(EuroPayment.kind).tuples())
    paid = int(credits.get("payment") or 0) + int(credits.get("repayment") or 0)
    waived = int(credits.get("waiver") or 0)
    return {"due": due, "paid": paid, "waived": waived, "open": due - paid - waived}
