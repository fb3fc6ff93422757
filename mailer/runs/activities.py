"""The activities' side of `lets serve`'s clock: the day before, a reminder to everyone
signed up; once an activity has taken place (the group's next day), each signed
participant's price is booked once to the payee."""
from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from db import activities, write_transaction
from handlers.activity import context

from .membership import send

log = logging.getLogger(__name__)


def day_start(settings, day: dt.date) -> dt.datetime:
    """The naive UTC moment the group's day `day` begins."""
    local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=ZoneInfo(settings.group.timezone))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def charge(settings, until: dt.date, now: dt.datetime) -> tuple[int, int]:
    """(charged, refused): the prices of activities held on or before the group's day `until`.
    Each activity is one transaction; a rerun books nothing twice (db/activities.py)."""
    charged = refused = 0
    for activity in activities.held_before(min(day_start(settings, until + dt.timedelta(days=1)), now)):
        with write_transaction():
            done, failed = activities.charge(activity, limits=settings.limits, now=now)
        charged += len(done)
        refused += len(failed)
        for row in failed:
            log.warning("activity %s: the price for member %s was refused by the ledger; tried again later",
                        activity.id, row.member_id)
    return charged, refused


def charge_due(settings, now: dt.datetime, composer=None) -> int:
    """The scheduler's run: activities held before today (the group's day). Sends no mail."""
    today = now.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(settings.group.timezone)).date()
    charge(settings, today - dt.timedelta(days=1), now)
    return 0


def remind_due(settings, now: dt.datetime, composer=None) -> int:
    """The day-before reminder: every signed member of an activity on the group's next day,
    once (the mark and the mail are one transaction)."""
    zone = ZoneInfo(settings.group.timezone)
    tomorrow = now.replace(tzinfo=dt.timezone.utc).astimezone(zone).date() + dt.timedelta(days=1)
    sent = 0
    for row in activities.to_remind(day_start(settings, tomorrow), day_start(settings, tomorrow + dt.timedelta(days=1))):
        with write_transaction():
            if activities.reminded(row, now) and row.member.primary_address:
                send(settings, row.member, "activity/reminder",
                     {**context(row.activity), "places": row.places}, composer)
                sent += 1
    return sent


def call_off(settings, activity, now: dt.datetime, composer=None) -> int:
    """Cancel an activity and tell everyone signed up or waiting, each in their language;
    a signed place's mail carries METHOD:CANCEL for the calendar. One transaction."""
    from db.models import Signup
    from ..message.calendar import invitation
    from ..message.compose import Composer
    from ..outbound.outbox import enqueue

    composer = composer or Composer(settings)
    told = 0
    with write_transaction():
        rows = activities.call_off(activity, now)
        for row in rows:
            member, address = row.member, row.member.primary_address
            if not address:
                continue
            calendar = ("CANCEL", invitation(settings, activity, "CANCEL", address)) if row.state == "signed" else None
            enqueue(composer.compose("activity/called-off", member.language,
                                     {**context(activity), "name": member.name,
                                                                  "placed": row.state == "signed"}, to=address,
                                     kind="activity/called-off", calendar=calendar))
            told += 1
        Signup.update(state="cancelled", changed=now).where(Signup.id.in_([r.id for r in rows])).execute()
    return told
