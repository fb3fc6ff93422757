"""Activities as iCalendar (RFC 5545), built with the `icalendar` package: the invitation
a sign-up confirmation carries (METHOD:REQUEST, or CANCEL when the place is given up,
RFC 5546) and the public feed of `lets agenda --ics`.

The UID is the activity's own, stable across every mail, so a calendar program updates
or removes the one event instead of adding another."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from db.models import Activity

PRODID = "-//lets-mail//activities//EN"
LENGTH = dt.timedelta(hours=2)   # where the organiser gave no end; calendars need one


def uid(settings, activity: Activity) -> str:
    return f"activity-{activity.id}@{settings.group.domain}"


def _event(settings, activity: Activity, *, sequence: int = 0) -> Event:
    zone = ZoneInfo(settings.group.timezone)
    start = activity.start.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    finish = activity.finish.replace(tzinfo=dt.timezone.utc).astimezone(zone) if activity.finish else start + LENGTH
    event = Event()
    event.add("uid", uid(settings, activity))
    event.add("summary", activity.title)
    event.add("dtstart", start)
    event.add("dtend", finish)
    event.add("dtstamp", dt.datetime.now(dt.timezone.utc))
    event.add("sequence", sequence)
    if activity.place:
        event.add("location", activity.place)
    if activity.description:
        event.add("description", activity.description)
    if activity.state == "cancelled":
        event.add("status", "CANCELLED")
    return event


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def invitation(settings, activity: Activity, method: str, attendee: str, own: int = 0) -> str:
    """One event for one participant: REQUEST for a place, CANCEL when it is given up.

    SEQUENCE is the activity's (raised when it moves or is cancelled) plus the sign-up's
    own (raised each time the place is given up or taken again), so every invitation is
    newer than the last one this member's calendar took (RFC 5546)."""
    calendar = _calendar(method)
    event = _event(settings, activity, sequence=activity.sequence + own)
    group = settings.group
    organizer = vCalAddress(f"mailto:{group.address}")
    organizer.params["cn"] = group.name
    event.add("organizer", organizer)
    event.add("attendee", vCalAddress(f"mailto:{attendee}"), parameters={"ROLE": "REQ-PARTICIPANT"})
    if method == "CANCEL" and "STATUS" not in event:
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode("utf-8").replace("\r\n", "\n")


def feed(settings, coming: list[Activity]) -> bytes:
    """The public agenda: titles, times, places and descriptions; nobody's name or address."""
    calendar = _calendar(None)
    calendar.add("x-wr-calname", settings.group.name)
    for activity in coming:
        calendar.add_component(_event(settings, activity, sequence=activity.sequence))
    calendar.add_missing_timezones()
    return calendar.to_ical()
