"""The euro run: yearly notices, reminders with surcharges, the core group's notice and the
year-end fine. Each member's step is one transaction that records the step (a unique
key), its charge or levy, and its mail together, so a run repeated, late or restarted
after a crash takes every step once. A member without email is charged, reminded and
fined like every member; the mail goes to their coordinator, or nowhere.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import IntegrityError

from db import contributions, euro, euro_schedule, ledger, liability, members, write_transaction
from db.membership import FORMER
from db.models import Account, EuroCharge, EuroPayment, EuroStep, Member
from handlers import Reply

from ..message.compose import Composer
from .member_mail import about
from .trades import queue

FINE_BY = "euro"


@dataclass
class Outcome:
    notices: int = 0
    reminders: int = 0
    core: int = 0
    fines: int = 0
    steps: list[str] = field(default_factory=list)     # "number year step", in order

    @property
    def mails(self) -> int:
        return self.notices + self.reminders + self.core + self.fines


def notice_day(year: int, rules) -> dt.date:
    return dt.date(year, 1, rules.notice_day)


def statement(member: Member, year: int, settings) -> dict:
    """What every euro mail shows: the year's charges, paid so far, still owed, how to pay."""
    rules = settings.euro
    charges = [{"kind": row.kind, "amount": row.amount_cents, "on": row.charged_on, "reason": row.reason}
               for row in EuroCharge.select().where(EuroCharge.member == member, EuroCharge.year == year)
               .order_by(EuroCharge.id)]
    credits = list(EuroPayment.select().where(EuroPayment.member == member, EuroPayment.year == year))
    return {
        "name": member.name, "number": member.number, "year": year, "charges": charges,
        "paid": sum(p.amount_cents for p in credits if p.kind == "payment"),
        "waived": sum(p.amount_cents for p in credits if p.kind == "waiver"),
        "owed": euro.outstanding_cents(member, year), "reference": euro.reference(member, year, rules),
        "iban": rules.iban, "holder": rules.holder, "category": member.income_category,
    }


def run(settings, now: dt.datetime, today: dt.date, composer: Composer | None = None,
        on_member=lambda count: None) -> Outcome:
    """Everything of the euro side that is due on `today` (the group's local date);
    `on_member` is called for each member looked at, for a progress bar."""
    composer = composer or Composer(settings)
    outcome = Outcome()
    rules = settings.euro
    if rules.first_year and today.year >= rules.first_year and today >= notice_day(today.year, rules):
        # Once told, a member is not looked at again this year: the daily run then
        # only visits newcomers (and members whose debt is not yet noticed).
        told = {row.member_id for row in EuroStep.select(EuroStep.member).where(
            EuroStep.year == today.year, EuroStep.step == "notice")}
        for member in (m for m in contributions.candidates() if m.id not in told):
            on_member(1)
            if _once(_notify, member, today, settings, now, composer):
                outcome.notices += 1
                outcome.steps.append(f"{member.number} {today.year} notice")
    for debt in euro_schedule.debts(today.year):
        on_member(1)
        due = euro_schedule.due_steps(debt, rules, today)
        reminders = [step for step in due if step.startswith("reminder-")]
        taken = []
        if reminders and _once(_remind, debt, reminders, today, settings, now, composer):
            outcome.reminders += 1
            taken.append(reminders[-1])
        if "core" in due and _once(_tell_core_group, debt, settings, now, composer):
            outcome.core += 1
            taken.append("core")
        # The fine is a debit in the unit: a member who has left, or whose account was
        # closed (settled in euros, cancelled in the first month), is not fined; the euro
        # debt stays and is reminded.
        if "fine" in due and debt.member.status not in FORMER and _fined_in_unit(debt) \
                and _once(_fine, debt, settings, now, composer):
            outcome.fines += 1
            taken.append("fine")
        outcome.steps += [f"{debt.member.number} {debt.year} {step}" for step in taken]
    return outcome


def _once(step, *args) -> bool:
    """Take one member's step in a transaction of its own; False when it was taken already,
    also by another worker at the same moment (its unique key then refuses ours)."""
    try:
        with write_transaction():
            return step(*args)
    except (IntegrityError, euro.ChargedConcurrently):
        return False


def _fined_in_unit(debt) -> bool:
    return liability.owes_from(debt.member, dt.date(debt.year, 1, 1), in_unit=True)


def _notify(member: Member, today: dt.date, settings, now, composer) -> bool:
    """The year's charge and its notice; True when a mail went out. For a member nobody
    reads mail for, the notice is recorded as taken all the same, so later runs skip them."""
    euro.charge_year(member, today.year, settings.euro, on=today)
    if euro.dues_outstanding_cents(member, today.year) <= 0:
        return False
    debt = euro_schedule.Debt(member, today.year, 0, today)
    if euro_schedule.take(debt, "notice", now=now) is None:
        return False
    months = euro_schedule.reminder_months(settings.euro)
    context = {**statement(member, today.year, settings), "reminder_after": months[0] if months else 0}
    notice = about(member, "euro/notice", context, settings, composer)
    queue([notice] if notice else [], settings, composer)
    return notice is not None


def _remind(debt, reminders: list[str], today, settings, now, composer) -> bool:
    # A run that comes late (lets serve was down) takes every missed reminder, surcharges
    # included, in one mail rather than two at once.
    surcharge = 0
    for step in reminders:
        if euro_schedule.take(debt, step, now=now) is None:
            continue
        euro.charge(debt.member, debt.year, "surcharge", settings.euro.surcharge,
                    f"surcharge:{debt.year}:{debt.member.id}:{step}", on=today, reason=step)
        surcharge += settings.euro.surcharge
    if not surcharge:
        return False
    context = {**statement(debt.member, debt.year, settings), "surcharge": surcharge,
               "reminder": int(reminders[-1].split("-")[1])}
    reminder = about(debt.member, "euro/reminder", context, settings, composer)
    queue([reminder] if reminder else [], settings, composer)
    return True


def core_group(settings) -> tuple[str, ...]:
    return settings.euro.core_group or settings.group.admins


def _tell_core_group(debt, settings, now, composer) -> bool:
    """The core group's notice of a year unpaid; when an earlier year is unpaid too, the
    notice names every unpaid year and proposes ending the membership (article 22.1)."""
    if euro_schedule.take(debt, "core", now=now) is None:
        return False
    context = {**statement(debt.member, debt.year, settings), "since": debt.since,
               "address": debt.member.primary_address or "", "months": settings.euro.core_group_months}
    unpaid = [(year, owed) for year, owed in euro.outstanding_by_year(debt.member).items()
              if owed > 0 and year <= debt.year]
    template = "euro/core-group"
    if len(unpaid) >= 2:
        template = "euro/core-group-years"
        context = {**context, "unpaid": unpaid, "years": [year for year, _ in unpaid],
                   "owed_total": sum(owed for _, owed in unpaid)}
    queue([Reply(template, context, to=address, language=settings.group.language)
           for address in core_group(settings)], settings, composer)
    return True


def _fine(debt, settings, now, composer) -> bool:
    if euro_schedule.take(debt, "fine", now=now) is None:
        return False
    account = members.account(debt.member)
    association = Account.get(Account.code == "association")
    booking = ledger.levy(account, association, settings.euro.fine * 100,
                          f"fine: euro contribution {debt.year} unpaid", now=now, entered_by=FINE_BY,
                          limits=settings.limits)
    EuroStep.update(transfer=booking.transfer).where(
        EuroStep.member == debt.member, EuroStep.year == debt.year, EuroStep.step == "fine").execute()
    context = {**statement(debt.member, debt.year, settings), "fine": booking.transfer.amount_cents,
               "balance": Account.get_by_id(account.id).balance_cents, "transfer": booking.transfer.number}
    fined = about(debt.member, "euro/fined", context, settings, composer)
    queue([fined] if fined else [], settings, composer)
    return True


def receipt(member: Member, payments, settings, on: dt.date) -> Reply | None:
    """The member's receipt for a payment: how much, for which year, what is still owed;
    None for a member nobody reads mail for."""
    year = payments[-1].year
    context = {**statement(member, year, settings), "amount": sum(p.amount_cents for p in payments),
               "paid_on": on, "owed_total": sum(max(0, owed) for owed in euro.outstanding_by_year(member).values())}
    return about(member, "euro/receipt", context, settings)
