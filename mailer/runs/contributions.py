"""Contribution runs and advance notices: each member in a transaction of their own that
books the debit, records it and queues the member's notice together. A member without
email is charged like every member; the notice goes to their coordinator, or nowhere."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from db import contributions, limits, members, write_transaction
from db.models import Account, Notice
from handlers import Reply

from ..message.compose import Composer
from .member_mail import about
from .trades import queue


@dataclass
class Outcome:
    charged: list[str] = field(default_factory=list)     # "number: amount" per member charged now
    skipped: int = 0                                      # charged or waived before, or owes nothing


def period_for(settings, label: str | None, today: dt.date) -> contributions.Period:
    """The named period, or the one of the group's kind that contains today."""
    if label:
        return contributions.parse_period(label)
    return contributions.period_of(today, settings.contributions.period)


def not_yet_due(period: contributions.Period, today: dt.date) -> bool:
    """Article 8.3.2: the contribution is charged at the end of the period, on its last day."""
    return today < period.last_day


def run(settings, period: contributions.Period, *, now: dt.datetime, composer: Composer | None = None,
        candidates: list | None = None, on_member=lambda count: None) -> Outcome:
    """Charge every member who owes a contribution for `period` and has not been charged."""
    composer = composer or Composer(settings)
    outcome = Outcome()
    today = now.date()
    for member in contributions.candidates() if candidates is None else candidates:
        on_member(1)
        with write_transaction():
            # Periods a postponement held back are charged once it has run out (article 8.3.3).
            for earlier in contributions.postponed_due(member, today, settings.contributions.period):
                if earlier.label != period.label:
                    _charge(member, earlier, settings, now, composer, outcome)
            if contributions.postponed(member, period, today) or not _charge(member, period, settings, now,
                                                                           composer, outcome):
                outcome.skipped += 1
    return outcome


def _charge(member, period: contributions.Period, settings, now: dt.datetime, composer: Composer,
            outcome: Outcome) -> bool:
    """Charge one member for one period and queue the notice; False when nothing is owed."""
    owed = contributions.due(member, period, settings)
    result = contributions.charge(owed, period, settings, now=now) if owed else None
    if result is None:
        return False
    row, booking = result
    notice = charged_notice(row, period, settings, now, composer)
    queue([notice] if notice else [], settings, composer)
    outcome.charged.append(f"{member.number}: {row.amount_cents}")
    return True


def charged_notice(row, period: contributions.Period, settings, now: dt.datetime,
                   composer: Composer | None = None) -> Reply | None:
    """The member's mail about the debit; None for a member nobody reads mail for."""
    member = row.member
    balance = Account.get_by_id(members.account(member).id).balance_cents
    lower, _ = limits.for_member(member, settings.limits, now.date())
    return about(member, "contributions/charged", {
        "period": period.label, "amount": row.amount_cents, "balance": balance, "lower": lower,
        "below": balance < lower, "number": row.transfer.number, "name": member.name,
    }, settings, composer)


def notify(settings, period: contributions.Period, *, now: dt.datetime, composer: Composer | None = None,
           candidates: list | None = None, on_member=lambda count: None, unreachable: list | None = None) -> int:
    """Tell every member who will be charged for `period` the amount and the date, once.
    Members nobody can be told about (no address, no coordinator) go into `unreachable`."""
    composer = composer or Composer(settings)
    sent = 0
    for member in contributions.candidates() if candidates is None else candidates:
        on_member(1)
        with write_transaction():
            if contributions.settled(member, period) is not None:
                continue
            owed = contributions.due(member, period, settings)
            if owed is None or contributions.postponed(member, period, now.date()):
                continue
            address, kind = contributions.notice_key(member, period)
            _, created = Notice.get_or_create(address=address, kind=kind, defaults={"sent_at": now})
            if not created:
                continue
            notice = about(member, "contributions/notice", {
                "period": period.label, "amount": owed.amount_cents, "date": period.last_day,
                "name": member.name,
            }, settings, composer)
            if notice is None:
                if unreachable is not None:
                    unreachable.append(member)
                continue      # the Notice row stays: the next run need not look again
            queue([notice], settings, composer)
            sent += 1
    return sent


def tell_relief(settings, member, template: str, context: dict, composer: Composer | None = None) -> None:
    """The member's mail about a waiver or a postponement of the contribution in the unit."""
    reply = about(member, template, {"name": member.name, **context}, settings, composer)
    queue([reply] if reply else [], settings, composer or Composer(settings))


def waive(settings, member, period: contributions.Period, reason: str, *, now: dt.datetime,
          entered_by: str) -> None:
    """`lets contributions waive`: record the waiver (a period or a year) and tell the member."""
    with write_transaction():
        contributions.waive(member, period, reason, now=now, entered_by=entered_by)
        tell_relief(settings, member, "contributions/waived", {
            "period": period.label, "year": len(period.label) == 4, "reason": reason.strip()})


def postpone(settings, member, until: dt.date, reason: str, *, now: dt.datetime, entered_by: str) -> None:
    """`lets contributions postpone`: record the postponement and tell the member."""
    with write_transaction():
        contributions.postpone(member, until, reason, now=now, entered_by=entered_by)
        tell_relief(settings, member, "contributions/postponed", {"until": until, "reason": reason.strip()})
