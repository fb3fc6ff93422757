"""How far a member's balance may go: per member type, for newcomers, or the member's own."""
from __future__ import annotations

import calendar
import datetime as dt

from .models import Account, Member, MemberLimit
from .prepared import Prepared, by_id


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def for_member(member: Member, limits, today: dt.date) -> tuple[int, int]:
    """(lower, upper) in cents. `limits` is the [limits] settings section."""
    lower = getattr(limits, f"{member.type}_lower", limits.regular_lower) * 100
    upper = getattr(limits, f"{member.type}_upper", limits.regular_upper) * 100
    if limits.newcomer_months and today < add_months(member.joined, limits.newcomer_months):
        lower = max(lower, limits.newcomer_lower * 100)
    found = _override.rows(MemberLimit, member.id)
    override = found[0] if found else None
    if override is not None:
        lower = override.lower_cents if override.lower_cents is not None else lower
        upper = override.upper_cents if override.upper_cents is not None else upper
    return lower, upper


def for_account(account: Account, limits, today: dt.date) -> tuple[int | None, int | None]:
    """System accounts (association, solidarity fund) have no limits: (None, None);
    a budget (budget:NAME) cannot be overspent: (0, None)."""
    if account.member_id is None:
        return (0, None) if account.code.startswith("budget:") else (None, None)
    return for_member(by_id(Member, account.member_id), limits, today)


_override = Prepared(lambda member: MemberLimit.select().where(MemberLimit.member == member), 1,
                     reads=["member_limit"])


def set_own(member: Member, lower_cents: int | None, upper_cents: int | None) -> MemberLimit:
    row, _ = MemberLimit.get_or_create(member=member)
    if lower_cents is not None:
        row.lower_cents = lower_cents
    if upper_cents is not None:
        row.upper_cents = upper_cents
    row.save()
    return row
