"""When digests are due: "weekly monday 07:00" in the group's time zone, as UTC moments."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LENGTH = {"weekly": dt.timedelta(days=7), "daily": dt.timedelta(days=1)}


class ScheduleError(ValueError):
    pass


def parse(schedule: str) -> tuple[int, dt.time]:
    """(weekday, time) of "weekly monday 07:00"; daily digests go out at the same time."""
    parts = schedule.lower().split()
    if len(parts) != 3 or parts[0] != "weekly" or parts[1] not in DAYS:
        raise ScheduleError(f"[digest] schedule {schedule!r}: expected e.g. 'weekly monday 07:00'")
    try:
        at = dt.time.fromisoformat(parts[2])
    except ValueError:
        raise ScheduleError(f"[digest] schedule {schedule!r}: bad time {parts[2]!r}") from None
    return DAYS.index(parts[1]), at


def latest_slot(settings, frequency: str, now: dt.datetime) -> tuple[str, dt.datetime]:
    """(period name, cutoff in naive UTC) of the last scheduled moment at or before `now`."""
    weekday, at = parse(settings.digest.schedule)
    zone = ZoneInfo(settings.group.timezone)
    local = now.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    day = local.date()
    if frequency == "weekly":
        day -= dt.timedelta(days=(day.weekday() - weekday) % 7)
    slot = dt.datetime.combine(day, at, tzinfo=zone)
    if slot > local:
        day -= LENGTH[frequency]
        slot = dt.datetime.combine(day, at, tzinfo=zone)
    cutoff = slot.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return f"{frequency}:{day.isoformat()}", cutoff
