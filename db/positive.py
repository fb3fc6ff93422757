"""Members whose balance has not been zero or more at any moment in a period (the rule:
positive at least once every two years).

Only members below zero now can qualify, so only their accounts are read: one query for
the candidates, one for their booked transfers since the start of the period. Walking
those transfers back from today's balance gives every balance the account had in the
period, the opening one included.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .limits import add_months
from .membership import TRADING
from .models import Account, Member, Transfer


@dataclass
class NotPositive:
    member: Member
    balance: int        # today, in cents
    highest: int        # the highest balance in the period, in cents (below zero)


def not_positive(today: dt.date, years: int = 2) -> list[NotPositive]:
    since = dt.datetime.combine(add_months(today, -12 * years), dt.time())
    rows = (Account.select(Account, Member).join(Member)
            .where(Account.balance_cents < 0, Member.status.in_(TRADING),
                   Member.joined <= since.date())
            .order_by(Member.number))
    accounts = {account.id: account for account in rows}
    if not accounts:
        return []
    highest = {account_id: account.balance_cents for account_id, account in accounts.items()}
    running = dict(highest)
    ids = list(accounts)
    moves = (Transfer.select(Transfer.payer, Transfer.payee, Transfer.amount_cents)
             .where(Transfer.state == "booked", Transfer.booked >= since,
                    Transfer.payer.in_(ids) | Transfer.payee.in_(ids))
             .order_by(Transfer.number.desc()).tuples())
    for payer, payee, amount in moves:
        # Undo the transfer: the balance before it is one the account had in the period.
        for account_id, signed in ((payer, -amount), (payee, amount)):
            if account_id in running:
                running[account_id] -= signed
                highest[account_id] = max(highest[account_id], running[account_id])
    return [NotPositive(account.member, account.balance_cents, highest[account.id])
            for account in accounts.values() if highest[account.id] < 0]
