"""When unpaid euros are followed up: reminders with a surcharge, the core group's notice, the fine.

Every step counts from the day the year was charged (the January notice, or the day a
new member joined), or from the end of a postponement when one was granted later:
reminders after [euro] reminder_months (3 and 6), the core group after
core_group_months (9). The fine falls at the end of the year, but never before the last
reminder was due, so a member who joins in December is reminded twice before any fine.
A step is done once: its EuroStep row has a unique (member, year, step) key.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import fn

from . import euro
from .limits import add_months
from .models import EuroCharge, EuroPayment, EuroStep, Member


@dataclass(frozen=True)
class Debt:
    member: Member
    year: int
    owed_cents: int
    since: dt.date           # the day the steps count from


def reminder_months(rules) -> list[int]:
    try:
        return sorted(int(month) for month in rules.reminder_months)
    except ValueError:
        raise euro.EuroError(f"[euro] reminder_months: {rules.reminder_months!r} are not whole months") from None


def schedule(debt: Debt, rules) -> list[tuple[str, dt.date]]:
    """(step, due day) for a debt, in order."""
    months = reminder_months(rules)
    steps = [(f"reminder-{n}", add_months(debt.since, m)) for n, m in enumerate(months, start=1)]
    steps.append(("core", add_months(debt.since, rules.core_group_months)))
    last_reminder = add_months(debt.since, months[-1]) if months else debt.since
    steps.append(("fine", max(dt.date(debt.year + 1, 1, 1), last_reminder)))
    return sorted(steps, key=lambda step: step[1])


def debts(up_to_year: int) -> list[Debt]:
    """Every member's unpaid year up to `up_to_year`, oldest first. Activities' euro prices
    are in the books but not in the steps: no reminder surcharge or year-end fine for
    them (payments count against the dues first)."""
    charged = dict((((m, y), int(total)) for m, y, total in EuroCharge.select(
        EuroCharge.member, EuroCharge.year, fn.SUM(EuroCharge.amount_cents))
        .where(EuroCharge.year <= up_to_year, EuroCharge.kind.not_in(euro.NOT_DUES))
        .group_by(EuroCharge.member, EuroCharge.year).tuples()))
    paid = dict((((m, y), int(total)) for m, y, total in EuroPayment.select(
        EuroPayment.member, EuroPayment.year, fn.SUM(EuroPayment.amount_cents))
        .group_by(EuroPayment.member, EuroPayment.year).tuples()))
    owing = {key: total - paid.get(key, 0) for key, total in charged.items() if total - paid.get(key, 0) > 0}
    found = {m.id: m for m in Member.select().where(Member.id.in_({m for m, _ in owing}))} if owing else {}
    result = []
    for (member_id, year), owed in sorted(owing.items(), key=lambda item: (item[0][1], item[0][0])):
        member = found[member_id]
        since = unpaid_since(member, year, charged[(member_id, year)] - owed)
        if since is None:
            continue
        until = euro.postponed_until(member, year)
        result.append(Debt(member, year, owed, max(since, until) if until else since))
    return result


def unpaid_since(member: Member, year: int, covered: int) -> dt.date | None:
    """The day the steps of a year's debt count from: the day of the oldest charge that
    `covered` (paid, waived, refunded) does not cover, oldest charges covered first.

    A charge made after everything before it was paid (the euro value of a balance
    settled on leaving, in September) starts its own clock rather than inherit January's,
    which would remind, surcharge and fine at once. An unpaid surcharge belongs to the
    debt it was added to: that debt's first day stays."""
    rows = list(EuroCharge.select().where(EuroCharge.member == member, EuroCharge.year == year,
                                          EuroCharge.kind.not_in(euro.NOT_DUES))
                .order_by(EuroCharge.charged_on, EuroCharge.id))
    covered -= sum(row.amount_cents for row in rows if row.amount_cents < 0)
    positive = [row for row in rows if row.amount_cents > 0]
    for row in positive:
        if covered < row.amount_cents:
            return positive[0].charged_on if row.kind == "surcharge" else row.charged_on
        covered -= row.amount_cents
    return None


def due_steps(debt: Debt, rules, today: dt.date) -> list[str]:
    """The debt's steps due by `today` and not yet taken."""
    done = {row.step for row in EuroStep.select(EuroStep.step).where(
        EuroStep.member == debt.member, EuroStep.year == debt.year)}
    return [step for step, day in schedule(debt, rules) if day <= today and step not in done]


def take(debt: Debt, step: str, *, now: dt.datetime, transfer=None) -> EuroStep | None:
    """Record a step inside the transaction that does it; None when it was taken already."""
    if EuroStep.get_or_none(EuroStep.member == debt.member, EuroStep.year == debt.year,
                            EuroStep.step == step) is not None:
        return None
    return EuroStep.create(member=debt.member, year=debt.year, step=step, transfer=transfer, created=now)
