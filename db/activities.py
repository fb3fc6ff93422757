"""Activities: drafts confirmed by the organiser, places and the waiting list, and the
price booked once each participant's activity has taken place."""
from __future__ import annotations

import datetime as dt

from . import ledger, members, tokens
from .models import Account, Activity, Member, Signup

PAYEES = ("organiser", "association")


class ActivityError(ValueError):
    """A member's mistake with an activity; `problem` names which (templates/activity/refused.txt)."""

    def __init__(self, problem: str, **context):
        super().__init__(problem)
        self.problem = problem
        self.context = context


def draft(organiser: Member, *, title: str, start: dt.datetime, place: str, description: str,
          capacity: int | None, signup: bool, price_cents: int | None, payee: str, language: str,
          now: dt.datetime, days: int) -> tuple[Activity, str]:
    """A draft and the single-use token of its preview (only the SHA-256 is stored)."""
    assert payee in PAYEES
    token = tokens.new()
    row = Activity.create(title=title, organiser=organiser, start=start, place=place, description=description,
                          capacity=capacity, signup=signup, price_cents=price_cents, payee=payee,
                          language=language, code=tokens.new(), preview_digest=tokens.digest(token),
                          preview_expires=now + dt.timedelta(days=days), created=now)
    return row, token


def find_preview(token: str) -> Activity | None:
    return Activity.get_or_none(Activity.preview_digest == tokens.digest(token))


def use_preview(activity: Activity, now: dt.datetime) -> bool:
    """Mark the preview answered; False when it was answered already (a replay or a race)."""
    return Activity.update(preview_used=now).where(Activity.id == activity.id,
                                                   Activity.preview_used.is_null()).execute() == 1


def publish(activity: Activity) -> None:
    Activity.update(state="published").where(Activity.id == activity.id).execute()
    activity.state = "published"


def by_code(code: str) -> Activity | None:
    return Activity.get_or_none(Activity.code == code.lower())


def taken(activity: Activity) -> int:
    """Places held by signed (or already charged) members."""
    return sum(s.places for s in activity.signups.where(Signup.state.in_(("signed", "charged"))))


def free(activity: Activity) -> int | None:
    """Places left; None when the activity takes everyone."""
    return None if activity.capacity is None else max(activity.capacity - taken(activity), 0)


def open_for(activity: Activity, now: dt.datetime) -> None:
    """Refuse an activity that takes no sign-ups any more."""
    if activity.state != "published":
        raise ActivityError("cancelled" if activity.state == "cancelled" else "closed")
    if activity.start <= now:
        raise ActivityError("closed")


def sign_up(activity: Activity, member: Member, places: int, now: dt.datetime) -> Signup:
    """A place (or several) for `member`: signed while there is room, waiting otherwise."""
    open_for(activity, now)
    if not activity.signup:
        raise ActivityError("no-signup")
    existing = Signup.get_or_none(Signup.activity == activity, Signup.member == member)
    if existing is not None and existing.state != "cancelled":
        raise ActivityError("twice", state=existing.state, places=existing.places)
    if activity.capacity is not None and places > activity.capacity:
        raise ActivityError("too-many", capacity=activity.capacity)
    room = free(activity)
    waiting = Signup.select().where(Signup.activity == activity, Signup.state == "waiting").exists()
    state = "signed" if room is None or (room >= places and not waiting) else "waiting"
    if existing is not None:
        existing.places, existing.state, existing.created, existing.changed = places, state, now, now
        existing.save()
        return existing
    return Signup.create(activity=activity, member=member, places=places, state=state, created=now, changed=now)


def cancel(activity: Activity, member: Member, now: dt.datetime, cancel_hours: int) -> tuple[Signup, list[Signup]]:
    """Give up a place: (the cancelled sign-up, the waiting sign-ups that got a place).

    Later than `cancel_hours` before the start a signed place cannot be given up (the price
    stays due); a place on the waiting list can always be left."""
    if activity.state != "published" or activity.start <= now:
        raise ActivityError("cancelled" if activity.state == "cancelled" else "closed")
    row = Signup.get_or_none(Signup.activity == activity, Signup.member == member)
    if row is None or row.state == "cancelled":
        raise ActivityError("not-signed")
    if row.state == "signed" and activity.start - now < dt.timedelta(hours=cancel_hours):
        raise ActivityError("too-late", hours=cancel_hours)
    was = row.state
    row.state, row.changed = "cancelled", now
    row.save()
    row.was = was
    return row, (promote(activity, now) if was == "signed" else [])


def promote(activity: Activity, now: dt.datetime) -> list[Signup]:
    """Freed places go to the waiting list in order of sign-up, as far as they fit."""
    promoted = []
    for row in activity.signups.where(Signup.state == "waiting").order_by(Signup.created, Signup.id):
        room = free(activity)
        if room is not None and row.places > room:
            break
        row.state, row.changed = "signed", now
        row.save()
        promoted.append(row)
    return promoted


def call_off(activity: Activity, now: dt.datetime) -> list[Signup]:
    """Cancel a published activity before it starts: the places that held it, to be told.
    Nothing is charged for a cancelled activity."""
    if activity.state != "published" or activity.start <= now:
        raise ActivityError("cancelled" if activity.state == "cancelled" else "closed")
    Activity.update(state="cancelled").where(Activity.id == activity.id).execute()
    activity.state = "cancelled"
    return list(activity.signups.where(Signup.state.in_(("signed", "waiting"))).order_by(Signup.id))


def coming(now: dt.datetime, limit: int = 50) -> list[Activity]:
    return list(Activity.select().where(Activity.state == "published", Activity.start > now)
                .order_by(Activity.start, Activity.id).limit(limit))


def held_before(moment: dt.datetime) -> list[Activity]:
    """Published activities that started before `moment`: their prices are due."""
    return list(Activity.select().where(Activity.state == "published", Activity.start < moment)
                .order_by(Activity.start, Activity.id))


def to_remind(start_from: dt.datetime, start_until: dt.datetime) -> list[Signup]:
    """Signed places at published activities starting in [from, until) not yet reminded."""
    return list(Signup.select(Signup, Activity).join(Activity)
                .where(Activity.state == "published", Activity.start >= start_from, Activity.start < start_until,
                       Signup.state == "signed", Signup.reminded.is_null())
                .order_by(Activity.start, Signup.id))


def reminded(row: Signup, now: dt.datetime) -> bool:
    """Mark a reminder sent; False when another run sent it already."""
    return Signup.update(reminded=now).where(Signup.id == row.id, Signup.reminded.is_null()).execute() == 1


def participants(activity: Activity) -> list[Signup]:
    """Who comes and who waits, in order of sign-up: the organiser's list."""
    return list(activity.signups.where(Signup.state.in_(("signed", "charged", "waiting")))
                .order_by(Signup.created, Signup.id))


def payee_account(activity: Activity) -> Account:
    if activity.payee == "association":
        return Account.get(Account.code == "association")
    return members.account(activity.organiser)


def charge(activity: Activity, *, limits, now: dt.datetime) -> tuple[list[Signup], list[Signup]]:
    """Book the price once for every signed participant: (charged, refused by the ledger).

    The sign-up is the payer's consent (the confirmation says so); limits apply as for any
    payment. A refused booking stays signed and is tried again on the next run; the
    activity is done when nobody is left to charge. Each booking and its sign-up's new
    state are one transaction (the caller's), so a rerun books nothing twice."""
    charged, refused = [], []
    payee = payee_account(activity)
    for row in activity.signups.where(Signup.state == "signed").order_by(Signup.id):
        amount = (activity.price_cents or 0) * row.places
        if amount and not (activity.payee == "organiser" and row.member_id == activity.organiser_id):
            try:
                booking = ledger.transfer_now(members.account(row.member), payee, amount,
                                              f"{activity.title} ({activity.start.date().isoformat()})",
                                              limits=limits, now=now, entered_by="activity",
                                              initiator="activity")
            except ledger.LedgerError:
                refused.append(row)
                continue
            row.transfer = booking.transfer
        row.state, row.changed = "charged", now
        row.save()
        charged.append(row)
    if not refused:
        Activity.update(state="done").where(Activity.id == activity.id).execute()
        activity.state = "done"
    return charged, refused
