"""Until when a member owes contributions (in the unit and in euros) and fines, once notice is given.

Article 5.5.2: a notice given by 1 December takes effect that year and carries no
obligation for the next one, even while a negative balance keeps the member `leaving`
past New Year; a later notice runs to the end of the next year, which is then owed in
full. Article 5.4: who cancels within a month of signing up is refunded and owes nothing
more. A member whose balance the administrators settled in euros (`settling`) owes no
more contributions in the unit: the account is closed while the euros are paid.
"""
from __future__ import annotations

import datetime as dt

from .models import Departure, Member

# The states of a departure that is still under way (db/departures.py).
OPEN = ("waiting", "leaving", "due", "settling")


def open_departure(member: Member) -> Departure | None:
    return (Departure.select().where(Departure.member == member, Departure.state.in_(OPEN))
            .order_by(Departure.id.desc()).first())


def liable_until(member: Member, *, in_unit: bool = False) -> dt.date | None:
    """The last day the member owes for; None while no notice is under way. `in_unit`: for
    what is debited in the unit (a contribution, a fine), which a settled account no longer
    takes; the euro contribution of the year the notice takes effect is owed all the same."""
    departure = open_departure(member)
    if departure is None:
        return None
    if departure.kind == "cancel" or (in_unit and departure.state == "settling"):
        return dt.date.min
    return dt.date(departure.effective.year, 12, 31)


def owes_from(member: Member, start: dt.date, *, in_unit: bool = False) -> bool:
    """Whether the member owes for a period (a quarter, a year) that starts on `start`."""
    until = liable_until(member, in_unit=in_unit)
    return until is None or start <= until
