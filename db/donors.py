"""The donor register (article 6): donors give euros, periodically or now and then.

A donor is not a member: no number, no account in the unit, no digest, no vote. Their
gifts are euro income of the association (`lets report`), each with a receipt.
"""
from __future__ import annotations

import datetime as dt

from peewee import fn

from . import members
from .models import Donor, DonorGift

EVERY = ("year", "quarter", "month")


class DonorError(ValueError):
    pass


def add(name: str, address: str, *, language: str, amount_cents: int = 0, every: str = "") -> Donor:
    address = members.normalise_address(address)
    if not name.strip() or "@" not in address:
        raise DonorError("a donor needs a name and an email address")
    if (amount_cents > 0) != bool(every):
        raise DonorError("a periodic gift needs both --amount and --every")
    if every and every not in EVERY:
        raise DonorError(f"--every is one of {', '.join(EVERY)}")
    if Donor.get_or_none(Donor.address == address, Donor.removed.is_null()) is not None:
        raise DonorError(f"{address} is already a donor")
    return Donor.create(name=name.strip(), address=address, language=language, amount_cents=amount_cents,
                        every=every)


def find(key: str) -> Donor | None:
    """A current donor by number (id) or address."""
    query = Donor.select().where(Donor.removed.is_null())
    if key.isdigit():
        return query.where(Donor.id == int(key)).first()
    return query.where(Donor.address == members.normalise_address(key)).first()


def current():
    return Donor.select().where(Donor.removed.is_null()).order_by(Donor.id)


def pay(donor: Donor, amount_cents: int, *, on: dt.date, entered_by: str = "admin") -> DonorGift:
    if amount_cents <= 0:
        raise DonorError("a gift is more than zero")
    return DonorGift.create(donor=donor, amount_cents=amount_cents, paid_on=on, entered_by=entered_by)


def remove(donor: Donor, *, on: dt.date) -> None:
    """Off the register; the gifts stay in the books."""
    Donor.update(removed=on).where(Donor.id == donor.id).execute()
    donor.removed = on


def given(donor: Donor, year: int) -> int:
    return int(DonorGift.select(fn.SUM(DonorGift.amount_cents)).where(
        DonorGift.donor == donor, DonorGift.paid_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31))).scalar() or 0)


def income(year: int) -> tuple[int, int]:
    """All donors' gifts paid in `year`, in cents, and how many donors gave."""
    rows = DonorGift.select(fn.SUM(DonorGift.amount_cents), fn.COUNT(fn.DISTINCT(DonorGift.donor))).where(
        DonorGift.paid_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31))).tuples().first()
    return int(rows[0] or 0), int(rows[1] or 0)
