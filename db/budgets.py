"""Budgets in the unit for the core group and working groups, and the claims paid from them.

A budget is a system account `budget:NAME` with a holder, a member who approves claims.
Administrators allocate to it from the association account; a member's claim is a
pending transfer from the budget (initiator `claim`) that the holder confirms with the
same tokened reply as a payment. A budget's lower limit is zero (db/limits.py), so the
ledger itself refuses to overspend it, also when two claims are approved at once.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from peewee import fn

from . import ledger, members
from .models import Account, Budget, Claim, Member, Transfer

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
MONTH = re.compile(r"\b(\d{4})-(\d{1,2})\b")


class BudgetError(ValueError):
    pass


def create(name: str, holder: Member) -> Budget:
    name = name.strip().lower()
    if not NAME.match(name):
        raise BudgetError(f"{name!r}: a budget name is one word of letters, digits, - or _")
    if Budget.get_or_none(Budget.name == name):
        raise BudgetError(f"budget {name} exists already")
    account = Account.create(code=f"budget:{name}", name=f"budget {name}")
    return Budget.create(name=name, account=account, holder=holder)


def by_name(name: str) -> Budget | None:
    return Budget.get_or_none(Budget.name == name.strip().lower())


def balance(budget: Budget) -> int:
    return Account.get_by_id(budget.account_id).balance_cents


def allocate(budget: Budget, cents: int, *, settings, now: dt.datetime, entered_by: str) -> ledger.Booking:
    association = Account.get(Account.code == "association")
    return ledger.transfer_now(association, Account.get_by_id(budget.account_id), cents,
                               f"budget allocation: {budget.name}", limits=settings.limits, now=now,
                               entered_by=entered_by)


@dataclass
class Summary:
    budget: Budget
    allocated: int    # booked into the budget this year
    spent: int        # booked out of it this year
    balance: int


def summaries(year: int) -> list[Summary]:
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    booked = (Transfer.state == "booked") & (Transfer.booked >= start) & (Transfer.booked < end)
    into = dict(Transfer.select(Transfer.payee, fn.SUM(Transfer.amount_cents)).where(booked)
                .group_by(Transfer.payee).tuples())
    out = dict(Transfer.select(Transfer.payer, fn.SUM(Transfer.amount_cents)).where(booked)
               .group_by(Transfer.payer).tuples())
    return [Summary(b, int(into.get(b.account_id) or 0), int(out.get(b.account_id) or 0), balance(b))
            for b in Budget.select().order_by(Budget.name)]


# -- claims --------------------------------------------------------------------------

def work_month(text: str, today: dt.date) -> tuple[int, int, str]:
    """(year, month, text without it): the month named as YYYY-MM, else the current month."""
    found = MONTH.search(text)
    if not found:
        return today.year, today.month, text
    rest = (text[:found.start()] + text[found.end():]).strip(" ,;")
    return int(found.group(1)), int(found.group(2)), " ".join(rest.split())


def claimable(year: int, month: int, today: dt.date, rules) -> str | None:
    """None when work of that month may be claimed today, else why not (future, late)."""
    if not 1 <= month <= 12 or (year, month) > (today.year, today.month):
        return "future"
    if year == today.year:
        return None
    if year == today.year - 1 and month >= rules.late_from_month and today.month <= rules.late_until_month:
        return None
    return "late"


def propose_claim(member: Member, budget: Budget, cents: int, description: str, *, year: int,
                  month: int, settings, now: dt.datetime, source=None) -> Claim:
    """A pending transfer from the budget to the member, waiting for the holder's yes.

    LedgerError("over-lower") when the budget holds less than the claim."""
    label = f"{year}-{month:02d}"
    transfer = ledger.propose(Account.get_by_id(budget.account_id), members.account(member), cents,
                              f"claim {budget.name} {label}: {description}", limits=settings.limits,
                              now=now, initiator="claim", confirm_days=settings.trades.confirm_days,
                              source=source)
    return Claim.create(member=member, budget=budget, transfer=transfer, work_month=label, created=now)
