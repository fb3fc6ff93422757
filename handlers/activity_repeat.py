"""How often an activity comes back, as organisers write it, read into an RFC 5545 RRULE:
"elke eerste zaterdag van de maand", "every other week", "chaque mardi jusqu'au 30 juin",
"jeden letzten Freitag im Monat", "maandelijks tot 1 juli 2027".

The rule is kept as text (RRULE) and expanded with python-dateutil, the library the
icalendar package itself builds on, so what members' calendars would compute from it
and the occurrences we keep are the same dates."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from dateutil.rrule import rrulestr

from db.models import Activity

from .commands import fold
from .dates import LOCALES, parse_date

BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ORDINALS = {
    1: ("eerste", "1e", "1ste", "first", "1st", "premier", "premiere", "1er", "1re", "erste", "ersten", "erster"),
    2: ("tweede", "2e", "2de", "second", "2nd", "deuxieme", "2eme", "zweite", "zweiten", "zweiter"),
    3: ("derde", "3e", "3de", "third", "3rd", "troisieme", "3eme", "dritte", "dritten", "dritter"),
    4: ("vierde", "4e", "4de", "fourth", "4th", "quatrieme", "4eme", "vierte", "vierten", "vierter"),
    -1: ("laatste", "last", "dernier", "derniere", "letzte", "letzten", "letzter"),
}
ORDINAL = {word: number for number, words in ORDINALS.items() for word in words}
WEEKLY = {"week", "weken", "wekelijks", "weekly", "weeks", "semaine", "semaines", "hebdomadaire", "woche", "wochen",
          "wochentlich", "woechentlich"}
MONTHLY = {"maand", "maanden", "maandelijks", "month", "months", "monthly", "mois", "mensuel", "mensuelle", "monat",
           "monate", "monatlich", "monats"}
# "every other week", "om de andere week", "une semaine sur deux", "jede zweite Woche"
OTHER = {"other", "andere", "alternate"}
# Words that start the last day: "tot 1 juli 2027", "until 1 July", "jusqu'au 1er juillet", "bis 1. Juli".
UNTIL = re.compile(r"\b(?:tot en met|t/m|tot|until|till|through|jusqu'au|jusqu au|jusqu'a|jusqu a|bis zum|bis)\b")
# Occurrences kept at once: enough for a weekly activity over a year.
MOST = 60


class RepeatError(ValueError):
    pass


@lru_cache(maxsize=1)
def _weekdays() -> dict[str, int]:
    """Folded weekday names and abbreviations in every language → 0 (Monday) … 6."""
    names = {}
    for locale in LOCALES:
        for width in ("wide", "abbreviated"):
            for number, name in get_day_names(width, locale=locale).items():
                names[fold(name).rstrip(".")] = number
    for number, name in get_day_names("wide", locale="en").items():
        names[fold(name) + "s"] = number      # "Saturdays"
    return names


def read_rule(text: str, today: dt.date) -> str:
    """The RRULE `text` describes, or RepeatError. A last day becomes UNTIL (inclusive)."""
    folded = fold(text).replace("’", "'").strip(" .")
    until = None
    found = UNTIL.search(folded)
    if found:
        until = parse_date(folded[found.end():].strip(" ,."), today)
        if until is None:
            raise RepeatError(text)
        folded = folded[:found.start()]
    words = re.findall(r"[\w']+", folded)
    weekdays = _weekdays()
    day = next((weekdays[w] for w in words if w in weekdays), None)
    nth = next((ORDINAL[w] for w in words if w in ORDINAL), None)
    numbers = [int(w) for w in words if w.isdigit()]
    interval = numbers[0] if numbers else (2 if any(w in OTHER for w in words) or "deux" in words
                                          or ("om" in words and "andere" in words) else 1)
    if interval < 1 or interval > 12:
        raise RepeatError(text)
    monthly = any(w in MONTHLY for w in words)
    weekly = any(w in WEEKLY for w in words)
    if nth == 2 and day is not None and not monthly and ("second" in words or "tweede" in words
                                                        or "zweite" in words) and weekly:
        nth, interval = None, 2      # "every second week" is every other week, not a day of the month
    if day is not None and nth is not None:
        rule = f"FREQ=MONTHLY;INTERVAL={interval};BYDAY={nth}{BYDAY[day]}"
    elif day is not None:
        rule = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={BYDAY[day]}"
    elif weekly:
        rule = f"FREQ=WEEKLY;INTERVAL={interval}"
    elif monthly:
        rule = f"FREQ=MONTHLY;INTERVAL={interval}"
    else:
        raise RepeatError(text)
    if until is not None:
        rule += f";UNTIL={until:%Y%m%d}T235959"
    return rule


def occurrences(rule: str, first: dt.datetime, after: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """The rule's local start moments in (after, until], counting from `first` (naive, local)."""
    dates = rrulestr(f"RRULE:{rule}", dtstart=first)
    found = []
    for moment in dates.xafter(after, count=MOST, inc=False):
        if moment > until:
            break
        found.append(moment)
    return found


def describe(rule: str) -> dict | None:
    """The rule as the mails word it: {"kind": weekly | monthly-day | monthly-date,
    "interval", "nth" (1…4, -1 for the last), "until" (a date or None)}; None for no rule."""
    if not rule:
        return None
    parts = dict(part.split("=", 1) for part in rule.split(";"))
    byday = parts.get("BYDAY", "")
    until = dt.datetime.strptime(parts["UNTIL"][:8], "%Y%m%d").date() if "UNTIL" in parts else None
    interval = int(parts.get("INTERVAL", "1"))
    if parts["FREQ"] == "WEEKLY":
        return {"kind": "weekly", "interval": interval, "nth": None, "until": until}
    if byday:
        return {"kind": "monthly-day", "interval": interval, "nth": int(byday[:-2]), "until": until}
    return {"kind": "monthly-date", "interval": interval, "nth": None, "until": until}


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)


def _utc(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)


def next_starts(activity, settings, now: dt.datetime, *, include_first: bool = False) -> list[tuple[dt.datetime, dt.datetime]]:
    """The series' next occurrences after `activity` (its latest), up to `[activities]
    repeat_days` from now: (start, the rule's date for it), naive UTC. The rule is read in
    the group's time zone, so a café at 14:00 stays at 14:00 across summer time. With
    `include_first`, the activity itself comes first (a preview's list of dates)."""
    if not activity.rule:
        return [(activity.start, activity.start)] if include_first else []
    zone = ZoneInfo(settings.group.timezone)
    first = Activity.get_by_id(activity.series) if activity.series else activity
    anchor = _local(first.occurrence or first.start, zone)
    after = _local(activity.occurrence or activity.start, zone)
    horizon = _local(now + dt.timedelta(days=settings.activities.repeat_days), zone)
    found = [(_utc(local, zone), _utc(local, zone)) for local in occurrences(activity.rule, anchor, after, horizon)]
    return ([(activity.start, activity.occurrence or activity.start)] if include_first else []) + found
