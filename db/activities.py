"""Activities: drafts confirmed by the organiser (and the core group, where it approves),
places and the waiting list, occurrences of a recurring activity, and the price booked
once: when the activity has taken place, or at sign-up where the group chooses so."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from . import euro, ledger, members, tokens
from .models import Account, Activity, Budget, Member, Signup

PAYEES = ("organiser", "association", "budget")


class ActivityError(ValueError):
    """A member's mistake with an activity; `problem` names which (templates/activity/refused.txt)."""

    def __init__(self, problem: str, **context):
        super().__init__(problem)
        self.problem = problem
        self.context = context


def draft(organiser: Member, *, title: str, start: dt.datetime, place: str, description: str,
          capacity: int | None, signup: bool, price_cents: int | None, payee: str, language: str,
          now: dt.datetime, days: int, finish: dt.datetime | None = None, price_euro_cents: int | None = None,
          budget: Budget | None = None, rule: str = "") -> tuple[Activity, str]:
    """A draft and the single-use token of its preview (only the SHA-256 is stored)."""
    assert payee in PAYEES and (payee == "budget") == (budget is not None)
    token = tokens.new()
    row = Activity.create(title=title, organiser=organiser, start=start, finish=finish, place=place,
                          description=description, capacity=capacity, signup=signup, price_cents=price_cents,
                          price_euro_cents=price_euro_cents, payee=payee, budget=budget, rule=rule,
                          occurrence=start if rule else None, language=language, code=tokens.new(),
                          preview_digest=tokens.digest(token), preview_expires=now + dt.timedelta(days=days),
                          created=now)
    return row, token


def find_preview(token: str) -> Activity | None:
    return Activity.get_or_none(Activity.preview_digest == tokens.digest(token))


def use_preview(activity: Activity, now: dt.datetime) -> bool:
    """Mark the preview answered; False when it was answered already (a replay or a race)."""
    return Activity.update(preview_used=now).where(Activity.id == activity.id,
                                                   Activity.preview_used.is_null()).execute() == 1


def publish(activity: Activity) -> None:
    """Open for sign-up; a recurring activity becomes the first of its series."""
    Activity.update(state="published", series=activity.id if activity.rule else None).where(
        Activity.id == activity.id).execute()
    activity.state = "published"
    activity.series = activity.id if activity.rule else None


def await_approval(activity: Activity) -> None:
    """The organiser said yes; the core group decides ([activities] approval)."""
    Activity.update(state="pending").where(Activity.id == activity.id).execute()
    activity.state = "pending"


def refuse(activity: Activity) -> None:
    if activity.state != "pending":
        raise ActivityError("not-pending", state=activity.state)
    Activity.update(state="refused").where(Activity.id == activity.id).execute()
    activity.state = "refused"


def add_occurrences(activity: Activity, starts: list[tuple[dt.datetime, dt.datetime]], now: dt.datetime) -> list[Activity]:
    """More occurrences of `activity`'s series, each (start, the start the rule gave it),
    as published rows of their own: their own places, sign-ups and reply code."""
    length = activity.finish - activity.start if activity.finish else None
    made = []
    for start, occurrence in starts:
        made.append(Activity.create(
            title=activity.title, organiser=activity.organiser_id, start=start,
            finish=start + length if length else None, place=activity.place, description=activity.description,
            capacity=activity.capacity, signup=activity.signup, price_cents=activity.price_cents,
            price_euro_cents=activity.price_euro_cents, payee=activity.payee, budget=activity.budget_id,
            rule=activity.rule, series=activity.series, occurrence=occurrence, state="published",
            language=activity.language, code=tokens.new(), preview_digest=tokens.digest(tokens.new()),
            preview_expires=now, preview_used=now, created=now))
    return made


def series_to_extend() -> list[Activity]:
    """For each series still running, its occurrence with the latest rule date."""
    latest = {}
    for row in (Activity.select().where(Activity.series.is_null(False), Activity.rule != "",
                                        Activity.state.in_(("published", "cancelled", "done")))
                .order_by(Activity.occurrence, Activity.id)):
        latest[row.series] = row
    return list(latest.values())


def occurrences(series: int, now: dt.datetime) -> list[Activity]:
    """The coming occurrences of a series, cancelled ones included, by date."""
    return list(Activity.select().where(Activity.series == series, Activity.start > now)
                .order_by(Activity.start, Activity.id))


def end_series(series: int) -> None:
    """No new occurrences: the rule is dropped from every occurrence of the series."""
    Activity.update(rule="").where(Activity.series == series).execute()


def move(activity: Activity, start: dt.datetime, finish: dt.datetime | None, now: dt.datetime) -> list[Signup]:
    """A new date and time for a coming activity (one occurrence of a series): the places
    stay, reminders go out again, calendars get the next SEQUENCE. Who is to be told."""
    if activity.state != "published" or activity.start <= now:
        raise ActivityError("cancelled" if activity.state == "cancelled" else "closed")
    if start <= now:
        raise ActivityError("past")
    Activity.update(start=start, finish=finish, sequence=Activity.sequence + 1).where(
        Activity.id == activity.id).execute()
    activity.start, activity.finish, activity.sequence = start, finish, activity.sequence + 1
    Signup.update(reminded=None).where(Signup.activity == activity).execute()
    return list(activity.signups.where(Signup.state.in_(("signed", "waiting"))).order_by(Signup.id))


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


def sign_up(activity: Activity, member: Member, places: int, now: dt.datetime, *,
            limits=None, pay_now: bool = False, zone: str = "UTC") -> Signup:
    """A place (or several) for `member`: signed while there is room, waiting otherwise.

    With `pay_now` ([activities] charge = signup) a signed place's price is booked at once,
    limits applied as for any payment; a booking the limits refuse is no place at all."""
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
        existing.transfer, existing.sequence = None, existing.sequence + 1
        row = existing
    else:
        row = Signup(activity=activity, member=member, places=places, state=state, created=now, changed=now)
    if state == "signed" and pay_now:
        row.transfer = _book(activity, row, limits, now, zone)
    row.save()
    return row


def label(activity: Activity, zone: str) -> str:
    """How a booking names the activity: "Repaircafé (2026-12-05)", the group's day."""
    day = activity.start.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(zone)).date()
    return f"{activity.title} ({day.isoformat()})"


def _book(activity: Activity, row: Signup, limits, now: dt.datetime, zone: str):
    """The price of `row`'s places, booked from the participant to the payee; None when
    nothing is due (no price, or the organiser's own place when the organiser is paid).
    ActivityError("limit") when the ledger refuses it."""
    amount = (activity.price_cents or 0) * row.places
    if not amount or (activity.payee == "organiser" and row.member_id == activity.organiser_id):
        return None
    try:
        return ledger.transfer_now(members.account(row.member), payee_account(activity), amount,
                                   label(activity, zone), limits=limits,
                                   now=now, entered_by="activity", initiator="activity").transfer
    except ledger.LedgerError as error:
        raise ActivityError("limit", reason=error.args[0] if error.args else "") from None


def _refund(activity: Activity, row: Signup, now: dt.datetime, limits) -> None:
    """A price paid at sign-up goes back when the place is given up in time or the activity
    is called off: a reversal, booked whatever the payee's limits (it is not a trade).
    `row.refunded` says whether there was anything to pay back."""
    row.refunded = row.transfer_id is not None
    if row.refunded:
        ledger.reverse(row.transfer.number, now=now, entered_by="activity", limits=limits)
        row.transfer = None


def cancel(activity: Activity, member: Member, now: dt.datetime, cancel_hours: int, *,
           limits=None, pay_now: bool = False, zone: str = "UTC") -> tuple[Signup, list[Signup]]:
    """Give up a place: (the cancelled sign-up, the waiting sign-ups that got a place).

    Later than `cancel_hours` before the start a signed place cannot be given up (the price
    stays due); a place on the waiting list can always be left. A price paid at sign-up
    is paid back."""
    if activity.state != "published" or activity.start <= now:
        raise ActivityError("cancelled" if activity.state == "cancelled" else "closed")
    row = Signup.get_or_none(Signup.activity == activity, Signup.member == member)
    if row is None or row.state == "cancelled":
        raise ActivityError("not-signed")
    if row.state == "signed" and activity.start - now < dt.timedelta(hours=cancel_hours):
        raise ActivityError("too-late", hours=cancel_hours)
    was = row.state
    _refund(activity, row, now, limits)
    row.state, row.changed, row.sequence = "cancelled", now, row.sequence + 1
    row.save()
    row.was = was
    return row, (promote(activity, now, limits=limits, pay_now=pay_now, zone=zone) if was == "signed" else [])


def promote(activity: Activity, now: dt.datetime, *, limits=None, pay_now: bool = False,
            zone: str = "UTC") -> list[Signup]:
    """Freed places go to the waiting list in order of sign-up, as far as they fit. Where
    the price is booked at sign-up, one whose limits refuse it stays waiting."""
    promoted = []
    for row in activity.signups.where(Signup.state == "waiting").order_by(Signup.created, Signup.id):
        room = free(activity)
        if room is not None and row.places > room:
            break
        if pay_now:
            try:
                row.transfer = _book(activity, row, limits, now, zone)
            except ActivityError:
                continue
        row.state, row.changed = "signed", now
        row.save()
        promoted.append(row)
    return promoted


def call_off(activity: Activity, now: dt.datetime, limits=None) -> list[Signup]:
    """Cancel a published activity before it starts: the places that held it, to be told.
    Nothing is charged for a cancelled activity; a price paid at sign-up is paid back."""
    if activity.state != "published" or activity.start <= now:
        raise ActivityError("cancelled" if activity.state == "cancelled" else "closed")
    Activity.update(state="cancelled", sequence=Activity.sequence + 1).where(Activity.id == activity.id).execute()
    activity.state, activity.sequence = "cancelled", activity.sequence + 1
    rows = list(activity.signups.where(Signup.state.in_(("signed", "waiting"))).order_by(Signup.id))
    for row in rows:
        _refund(activity, row, now, limits)
        row.save()
    return rows


def coming(now: dt.datetime, limit: int = 50, per_series: int | None = None) -> list[Activity]:
    """Published activities still to start, soonest first; with `per_series`, only that
    many dates of each recurring activity (a weekly one would fill a digest)."""
    rows = Activity.select().where(Activity.state == "published", Activity.start > now).order_by(
        Activity.start, Activity.id)
    if per_series is None:
        return list(rows.limit(limit))
    shown, seen = [], {}
    for row in rows:
        if row.series is not None:
            seen[row.series] = seen.get(row.series, 0) + 1
            if seen[row.series] > per_series:
                continue
        shown.append(row)
        if len(shown) == limit:
            break
    return shown


def held_places(activity_ids: list[int]) -> list[tuple[int, int, str]]:
    """(member id, activity id, signed | waiting) of every place held or waited for at these activities."""
    if not activity_ids:
        return []
    return list(Signup.select(Signup.member, Signup.activity, Signup.state).where(
        Signup.activity.in_(activity_ids), Signup.state.in_(("signed", "waiting"))).tuples())


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
    if activity.payee == "budget":
        return Account.get_by_id(activity.budget.account_id)
    return members.account(activity.organiser)


def charge(activity: Activity, *, limits, now: dt.datetime, zone: str = "UTC") -> tuple[list[Signup], list[Signup]]:
    """Book the price once for every signed participant: (charged, refused by the ledger).

    The sign-up is the payer's consent (the confirmation says so); limits apply as for any
    payment. A refused booking stays signed and is tried again on the next run; the
    activity is done when nobody is left to charge. Each booking and its sign-up's new
    state are one transaction (the caller's), so a rerun books nothing twice."""
    charged, refused = [], []
    for row in activity.signups.where(Signup.state == "signed").order_by(Signup.id):
        if row.transfer_id is None:          # not paid at sign-up
            try:
                row.transfer = _book(activity, row, limits, now, zone)
            except ActivityError:
                refused.append(row)
                continue
        if activity.price_euro_cents and row.member_id != activity.organiser_id:
            # Owed to the association in euros, in its books with the contributions
            # (`lets euro status`, `lets euro paid`); the key makes it once.
            euro.charge(row.member, activity.start.year, "activity", activity.price_euro_cents * row.places,
                        f"activity:{activity.id}:{row.member_id}", on=now.date(),
                        reason=label(activity, zone))
        row.state, row.changed = "charged", now
        row.save()
        charged.append(row)
    if not refused:
        Activity.update(state="done").where(Activity.id == activity.id).execute()
        activity.state = "done"
    return charged, refused
