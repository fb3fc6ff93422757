"""The activities' side of `lets serve`'s clock and of `lets activity`: the day before, a
reminder to everyone signed up; once an activity has taken place (the group's next day),
each signed participant's price is booked once to the payee; recurring activities get
their next occurrences; and what the core group does by command (approve or refuse,
move, call off), each with its mails in the same transaction."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from db import activities, write_transaction
from db.models import Activity
from handlers import Reply
from handlers.activity import called_off, context, go_live, moved, reply_to
from handlers.activity_repeat import next_starts

from ..message.compose import Composer
from ..outbound.replies import queue

log = logging.getLogger(__name__)


def day_start(settings, day: dt.date) -> dt.datetime:
    """The naive UTC moment the group's day `day` begins."""
    local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=ZoneInfo(settings.group.timezone))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def charge(settings, until: dt.date, now: dt.datetime, composer: Composer | None = None) -> tuple[int, int]:
    """(charged, refused): the prices of activities held on or before the group's day `until`.
    Each activity is one transaction; a rerun books nothing twice (db/activities.py)."""
    charged = refused = 0
    composer = composer or Composer(settings)
    for activity in activities.held_before(min(day_start(settings, until + dt.timedelta(days=1)), now)):
        with write_transaction():
            done, failed = activities.charge(activity, limits=settings.limits, now=now, zone=settings.group.timezone)
            # Each participant hears what was booked, with the booking, in one transaction.
            about = context(activity, settings)
            queue(settings, [Reply("activity/charged", {**about, "name": row.member.name, "places": row.places,
                                                        "booked": row.transfer.amount_cents if row.transfer_id else 0,
                                                        "owed_euro": (activity.price_euro_cents or 0) * row.places
                                                        if row.member_id != activity.organiser_id else 0},
                                   to=row.member.primary_address)
                             for row in done if row.member.primary_address
                             and (row.transfer_id or (activity.price_euro_cents and
                                                      row.member_id != activity.organiser_id))], composer)
        charged += len(done)
        refused += len(failed)
        for row in failed:
            log.warning("activity %s: the price for member %s was refused by the ledger; tried again later",
                        activity.id, row.member_id)
    return charged, refused


def charge_due(settings, now: dt.datetime, composer=None) -> int:
    """The scheduler's run: activities held before today (the group's day); each participant
    charged is told what was booked."""
    today = now.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(settings.group.timezone)).date()
    charged, _ = charge(settings, today - dt.timedelta(days=1), now, composer)
    return charged


def remind_due(settings, now: dt.datetime, composer=None) -> int:
    """The day-before reminder: every signed member of an activity on the group's next day,
    once (the mark and the mail are one transaction)."""
    zone = ZoneInfo(settings.group.timezone)
    tomorrow = now.replace(tzinfo=dt.timezone.utc).astimezone(zone).date() + dt.timedelta(days=1)
    sent = 0
    for row in activities.to_remind(day_start(settings, tomorrow), day_start(settings, tomorrow + dt.timedelta(days=1))):
        with write_transaction():
            if activities.reminded(row, now) and row.member.primary_address:
                queue(settings, [Reply("activity/reminder", {**context(row.activity, settings), "places": row.places,
                                                             "name": row.member.name},
                                       to=row.member.primary_address, headers=reply_to(row.activity, settings))],
                      composer)
                sent += 1
    return sent


def extend_series(settings, now: dt.datetime, composer=None) -> int:
    """Recurring activities: open the occurrences that came within `[activities]
    repeat_days`. They appear in the digest and in AGENDA; nobody is mailed. Sends no mail."""
    for latest in activities.series_to_extend():
        with write_transaction():
            made = activities.add_occurrences(latest, next_starts(latest, settings, now), now)
        if made:
            log.info("activity series %s: %d more occurrences", latest.series, len(made))
    return 0


def call_off(settings, activity: Activity, now: dt.datetime, composer: Composer | None = None) -> int:
    """Cancel an activity and tell everyone signed up or waiting, each in their language;
    a signed place's mail carries METHOD:CANCEL for the calendar. One transaction."""
    organiser = activity.organiser
    with write_transaction():
        rows = activities.call_off(activity, now, settings.limits)
        told = [called_off(row, activity, settings) for row in rows if row.member.primary_address]
        mails = list(told)
        if organiser.primary_address and organiser.id not in {row.member_id for row in rows}:
            mails.append(Reply("activity/call-off-done", {**context(activity, settings), "told": len(told),
                                                          "whole": False, "dates": [activity.start]},
                               to=organiser.primary_address, language=organiser.language))
        queue(settings, mails, composer)
    return len(told)


def end_series(settings, activity: Activity, now: dt.datetime, composer: Composer | None = None) -> tuple[int, int]:
    """Call off every coming occurrence of `activity`'s series and make no more:
    (occurrences cancelled, members told)."""
    cancelled = told = 0
    for each in activities.occurrences(activity.series, now):
        if each.state == "published":
            told += call_off(settings, each, now, composer)
            cancelled += 1
    activities.end_series(activity.series)
    return cancelled, told


def approve(settings, activity: Activity, now: dt.datetime, composer: Composer | None = None) -> int:
    """The core group's yes to a pending activity: published as if the organiser's JA had
    done it, the organiser told; the number of members it goes to."""
    if activity.state != "pending":
        raise activities.ActivityError("not-pending", state=activity.state)
    if activity.start <= now:
        raise activities.ActivityError("closed")
    organiser = activity.organiser
    with write_transaction():
        replies = go_live(activity, settings, now)
        told, mails = replies[0], replies[1:]
        if organiser.primary_address:
            mails.append(dataclasses.replace(told, to=organiser.primary_address, language=organiser.language))
        queue(settings, mails, composer)
    return len(replies) - 1


def refuse(settings, activity: Activity, reason: str, composer: Composer | None = None) -> None:
    """The core group's no: the organiser is told why; nothing was published."""
    organiser = activity.organiser
    with write_transaction():
        activities.refuse(activity)
        if organiser.primary_address:
            queue(settings, [Reply("activity/declined", {**context(activity, settings), "reason": reason},
                                   to=organiser.primary_address, language=organiser.language)], composer)


def move(settings, activity: Activity, start: dt.datetime, finish: dt.datetime | None, now: dt.datetime,
         composer: Composer | None = None) -> int:
    """A new date and time; everyone signed up or waiting is told (a new calendar
    SEQUENCE), the organiser too. The number of members told."""
    before = activity.start
    with write_transaction():
        mails = moved(activity, activities.move(activity, start, finish, now), before, settings)
        organiser = activity.organiser
        if organiser.primary_address:
            mails.append(Reply("activity/move-done", {**context(activity, settings), "before": before,
                                                      "told": len(mails)},
                               to=organiser.primary_address, language=organiser.language))
        queue(settings, mails, composer)
    return len(mails) - 1 if organiser.primary_address else len(mails)
