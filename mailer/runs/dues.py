"""The money side of `lets serve`'s clock: the unit contribution's advance notice and debit,
and the daily euro run (January notices, reminders, the core group, year-end fines).

A finished run leaves a marker (a Notice row) so the once-a-minute scheduler does not walk
all members again; the markers only save work. What makes each step happen once is the
unique key every step writes in its own transaction, so a run cut short is simply
repeated the next minute.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from db import contributions, write_transaction
from db.models import Notice

from . import contributions as contribution_mail
from . import euro as euro_mail
from ..message.compose import Composer

MARKER = "schedule:money"


def local_date(settings, now: dt.datetime) -> dt.date:
    """The group's calendar day at the naive UTC moment `now`."""
    return now.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(settings.group.timezone)).date()


def _done(kind: str) -> bool:
    return Notice.select().where(Notice.address == MARKER, Notice.kind == kind).exists()


def _mark(kind: str, now: dt.datetime) -> None:
    with write_transaction():
        Notice.get_or_create(address=MARKER, kind=kind, defaults={"sent_at": now})


def contributions_due(settings, now: dt.datetime, composer: Composer) -> int:
    """The advance notice `notice_days` before a period's last day, the debit on that day.
    A debit missed while the server was down is made late, but only for a period whose
    notice went out: a group's first start never charges for a period before it."""
    today = local_date(settings, now)
    current = contributions.period_of(today, settings.contributions.period)
    previous = contributions.period_of(current.start - dt.timedelta(days=1), settings.contributions.period)
    queued = 0
    if _done(f"notify:{previous.label}") and not _done(f"run:{previous.label}"):
        queued += len(contribution_mail.run(settings, previous, now=now, composer=composer).charged)
        _mark(f"run:{previous.label}", now)
    notify_from = current.last_day - dt.timedelta(days=settings.contributions.notice_days)
    if today >= notify_from and not _done(f"notify:{current.label}"):
        queued += contribution_mail.notify(settings, current, now=now, composer=composer)
        _mark(f"notify:{current.label}", now)
    if today >= current.last_day and not _done(f"run:{current.label}"):
        queued += len(contribution_mail.run(settings, current, now=now, composer=composer).charged)
        _mark(f"run:{current.label}", now)
    return queued


def euro_due(settings, now: dt.datetime, composer: Composer) -> int:
    """The euro run, once a day (the group's day)."""
    today = local_date(settings, now)
    if _done(f"euro:{today.isoformat()}"):
        return 0
    outcome = euro_mail.run(settings, now, today, composer)
    _mark(f"euro:{today.isoformat()}", now)
    return outcome.mails
