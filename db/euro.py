"""The euro side of membership: the yearly contribution, the registration fee, payments,
waivers, postponements and refunds, in integer euro cents and never in the unit ledger.

A member's debt is kept per year: the sum of that year's EuroCharge rows (contribution,
registration fee, surcharges, negative refunds) minus its EuroPayment rows (payments,
waivers, negative repayments). Every charge carries a unique key that names what it is
for, so charging twice (a repeated run, a membership flow called again) adds nothing.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from fractions import Fraction

from peewee import IntegrityError, fn

from . import liability
from . import paper
from .contributions import PAYING_STATUSES, PAYING_TYPES
from .models import EuroCharge, EuroPayment, EuroPostponement, Member

CATEGORIES = ("A", "B", "C")
# What a refund on cancelling gives back: the year's contribution and its surcharges,
# never the registration fee.
REFUNDABLE = ("contribution", "surcharge")
# Charges kept in the euro books that are no dues: an activity's price in euros.
NOT_DUES = ("activity",)


class EuroError(ValueError):
    pass


class WaiverTooLarge(EuroError):
    """More waived than is owed: the amounts kept, for the command line to say in euros."""

    def __init__(self, member: Member, year: int, owed: int, amount: int):
        super().__init__(f"member {member.number} owes {owed} cents for {year}; cannot waive {amount}")
        self.member, self.year, self.owed, self.amount = member, year, owed, amount


class ChargedConcurrently(EuroError):
    """Another process wrote the same charge first: the caller's transaction rolls back."""


def fraction(text: str, where: str = "[euro]") -> Fraction:
    """"2/3" → Fraction(2, 3); a setting that is no fraction between 0 and 1 is refused."""
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise EuroError(f"{where}: {text!r} is not a fraction such as 2/3") from None
    if not 0 <= value <= 1:
        raise EuroError(f"{where}: {text!r} must lie between 0 and 1")
    return value


def _cents(value: Fraction) -> int:
    """Half a cent and more rounds up: 1800 × 2/3 × 1/2 = 600, 2700 × 2/3 = 1800."""
    return math.floor(value + Fraction(1, 2))


def late_join_day(year: int, rules) -> dt.date:
    try:
        month, day = (int(part) for part in rules.late_join_after.split("-"))
        return dt.date(year, month, day)
    except ValueError:
        raise EuroError(f"[euro] late_join_after: {rules.late_join_after!r} is not a day such as 07-01") from None


def pays(member: Member) -> bool:
    """Honorary and guest members, applicants and former members owe no euros."""
    return member.type in PAYING_TYPES and member.status in PAYING_STATUSES


def contribution_cents(member: Member, year: int, rules, *, joined: dt.date | None = None) -> int:
    """The member's euro contribution for `year`: by income category, 2/3 for a household
    member (or the household's own amount for the category), half for who joined after
    1 July of that year (all are settings); plus,
    in full, [euro] paper_amount for a member who gets the guide on paper (article 8.2.2)."""
    if member.type not in PAYING_TYPES:
        return 0
    category = (member.income_category or "A").upper()
    if category not in CATEGORIES:
        raise EuroError(f"member {member.number} has income category {category!r}")
    amount = Fraction(getattr(rules, f"amount_{category.lower()}"))
    own = getattr(rules, f"household_{category.lower()}", 0) if member.type == "household" else 0
    if own:
        amount = Fraction(own)
    elif member.type == "household":
        amount *= fraction(rules.household_factor, "[euro] household_factor")
    joined = joined or member.joined
    if joined.year == year and joined > late_join_day(year, rules):
        amount *= fraction(rules.late_join_factor, "[euro] late_join_factor")
    return _cents(amount) + (getattr(rules, "paper_amount", 0) if paper.wants(member) else 0)


def registration_cents(member: Member, rules) -> int:
    if member.type not in PAYING_TYPES:
        return 0
    percent = rules.registration_household_percent if member.type == "household" else 100
    return _cents(Fraction(rules.registration * percent, 100))


def reference(member: Member, year: int, rules) -> str:
    """PREFIX-YEAR-NUMBER-CHECK, the check digits as in ISO 7064 MOD 97-10 (as an IBAN's):
    a mistyped digit in a bank transfer's description is noticed when matching payments."""
    return f"{rules.reference_prefix}-{year}-{member.number:04d}-{_check(year, member.number):02d}"


def _check(year: int, number: int) -> int:
    return 98 - (int(f"{year}{number:04d}") * 100) % 97


def parse_reference(text: str) -> tuple[int, int] | None:
    """(member number, year) of a payment reference whose check digits are right."""
    match = re.fullmatch(r"[A-Za-z]*-?(\d{4})-(\d{1,6})-(\d{2})", text.strip())
    if not match:
        return None
    year, number, check = (int(group) for group in match.groups())
    return (number, year) if _check(year, number) == check else None


def set_category(member: Member, category: str) -> Member:
    category = category.strip().upper()
    if category not in CATEGORIES:
        raise EuroError(f"income category {category!r}: one of {', '.join(CATEGORIES)}")
    Member.update(income_category=category).where(Member.id == member.id).execute()
    member.income_category = category
    return member


def charge(member: Member, year: int, kind: str, amount_cents: int, key: str, *, on: dt.date,
           reason: str = "") -> EuroCharge | None:
    """A new charge, or None when the one with this key exists (or nothing is owed).

    Call inside the transaction that also records the step and queues its mail."""
    if amount_cents == 0 or EuroCharge.get_or_none(EuroCharge.key == key) is not None:
        return None
    try:
        return EuroCharge.create(member=member, year=year, kind=kind, amount_cents=amount_cents, key=key,
                                 charged_on=on, reason=reason)
    except IntegrityError:
        raise ChargedConcurrently(key) from None


def charge_year(member: Member, year: int, rules, *, on: dt.date, joined: dt.date | None = None) -> list[EuroCharge]:
    """The year's contribution, and the registration fee for who joined that year; only
    the charges created now (none when they exist or the member pays nothing)."""
    joined = joined or member.joined
    if not pays(member) or joined.year > year or joined > on:
        return []
    # A notice given by 1 December carries no obligation for the next year (article 5.5.2).
    if not liability.owes_from(member, dt.date(year, 1, 1)):
        return []
    made = []
    if joined.year == year:
        made.append(charge(member, year, "registration", registration_cents(member, rules),
                           f"registration:{member.id}", on=on))
    made.append(charge(member, year, "contribution", contribution_cents(member, year, rules, joined=joined),
                       f"contribution:{year}:{member.id}", on=on))
    return [row for row in made if row is not None]


def register_new_member(member: Member, settings, *, on: dt.date) -> list[EuroCharge]:
    """For the membership flow, when a member joins (or is approved) on `on`: the one-time
    registration fee (household members 50%) and that year's contribution (half after
    1 July). Repeating it charges nothing more. The notice goes out with the next
    scheduled euro run (`lets serve`, `lets euro run`), in the member's language.
    Before `[euro] first_year` (or with it 0) the group keeps no euro books: nothing."""
    first = settings.euro.first_year
    if not first or on.year < first:
        return []
    return charge_year(member, on.year, settings.euro, on=on, joined=on)


def dues_outstanding_cents(member: Member, year: int) -> int:
    """What the member still owes for `year` in dues (not activities' prices), payments
    counted against the dues first: what the notice, reminders and fine are about."""
    dues = EuroCharge.select(fn.SUM(EuroCharge.amount_cents)).where(
        EuroCharge.member == member, EuroCharge.year == year, EuroCharge.kind.not_in(NOT_DUES)).scalar() or 0
    paid = EuroPayment.select(fn.SUM(EuroPayment.amount_cents)).where(
        EuroPayment.member == member, EuroPayment.year == year).scalar() or 0
    return max(0, int(dues) - int(paid))


def outstanding_cents(member: Member, year: int) -> int:
    """What the member still owes for `year`: negative when the association owes the member."""
    charged = EuroCharge.select(fn.SUM(EuroCharge.amount_cents)).where(
        EuroCharge.member == member, EuroCharge.year == year).scalar() or 0
    paid = EuroPayment.select(fn.SUM(EuroPayment.amount_cents)).where(
        EuroPayment.member == member, EuroPayment.year == year).scalar() or 0
    return int(charged) - int(paid)


def outstanding_by_year(member: Member) -> dict[int, int]:
    years = {row.year for row in EuroCharge.select(EuroCharge.year).where(EuroCharge.member == member).distinct()}
    return {year: outstanding_cents(member, year) for year in sorted(years)}


def record_payment(member: Member, amount_cents: int, *, on: dt.date, entered_by: str,
                   year: int | None = None) -> list[EuroPayment]:
    """A payment (partial ones too), counted against the oldest unpaid year first; what is
    left over goes to `year`, else the last year paid for, else the year of `on`."""
    if amount_cents <= 0:
        raise EuroError("a payment must be more than zero")
    rows, left = [], amount_cents
    if year is None:
        owing = [(y, owed) for y, owed in outstanding_by_year(member).items() if owed > 0]
        for owed_year, owed in owing:
            if left <= 0:
                break
            part = min(owed, left)
            rows.append(EuroPayment.create(member=member, year=owed_year, amount_cents=part, paid_on=on,
                                           entered_by=entered_by))
            left -= part
        year = owing[-1][0] if owing else on.year
    if left > 0:
        if rows and rows[-1].year == year:
            rows[-1].amount_cents += left
            rows[-1].save()
        else:
            rows.append(EuroPayment.create(member=member, year=year, amount_cents=left, paid_on=on,
                                           entered_by=entered_by))
    return rows


def _oldest_owing(member: Member, default: int) -> int:
    return next((y for y, owed in outstanding_by_year(member).items() if owed > 0), default)


def waive(member: Member, amount_cents: int, reason: str, *, on: dt.date, entered_by: str,
          year: int | None = None) -> EuroPayment:
    """Forgive part or all of a year's debt (the oldest unpaid year unless named)."""
    if not reason.strip():
        raise EuroError("a waiver needs a reason")
    year = year or _oldest_owing(member, on.year)
    owed = outstanding_cents(member, year)
    if amount_cents <= 0 or amount_cents > owed:
        raise WaiverTooLarge(member, year, owed, amount_cents)
    return EuroPayment.create(member=member, year=year, kind="waiver", amount_cents=amount_cents, paid_on=on,
                              reason=reason.strip(), entered_by=entered_by)


def postpone(member: Member, until: dt.date, reason: str, *, entered_by: str, now: dt.datetime,
             year: int | None = None) -> EuroPostponement:
    """Reminders, the core group's notice and the fine for the year count from `until`."""
    if not reason.strip():
        raise EuroError("a postponement needs a reason")
    year = year or _oldest_owing(member, now.year)
    return EuroPostponement.create(member=member, year=year, until=until, reason=reason.strip(),
                                   entered_by=entered_by, created=now)


def postponed_until(member: Member, year: int) -> dt.date | None:
    row = (EuroPostponement.select().where(EuroPostponement.member == member, EuroPostponement.year == year)
           .order_by(EuroPostponement.id.desc()).first())
    return row.until if row else None


@dataclass(frozen=True)
class Refund:
    cancelled_cents: int     # contributions and surcharges taken off the year's debt
    repay_cents: int         # of what was paid, what the association now pays back


def refund_contributions(member: Member, year: int, reason: str, *, on: dt.date | None = None) -> Refund:
    """Cancel the year's euro contributions (and surcharges), not the registration fee: for
    a member who cancels within a month of joining. What was paid beyond the fee is
    recorded as a repayment the treasurer makes; a second call changes nothing."""
    on = on or dt.date.today()
    net = EuroCharge.select(fn.SUM(EuroCharge.amount_cents)).where(
        EuroCharge.member == member, EuroCharge.year == year,
        EuroCharge.kind.in_((*REFUNDABLE, "refund"))).scalar() or 0
    if net <= 0:
        return Refund(0, 0)
    done = EuroCharge.select().where(EuroCharge.member == member, EuroCharge.year == year,
                                     EuroCharge.kind == "refund").count()
    charge(member, year, "refund", -int(net), f"refund:{year}:{member.id}:{done + 1}", on=on, reason=reason)
    repay = max(0, -outstanding_cents(member, year))
    if repay:
        EuroPayment.create(member=member, year=year, kind="repayment", amount_cents=-repay, paid_on=on,
                           reason=reason, entered_by="refund")
    return Refund(int(net), repay)
