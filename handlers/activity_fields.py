"""The fields of an activity's announcement, in any of the group's languages:
"Datum: zaterdag 6 maart 2027", "Time: 14:00-17:00", "Lieu : Buurthuis", "Plätze: 3",
"Prijs: 2 zonnen + € 5", "Ontvanger: budget Repaircafé", "Herhaling: elke eerste zaterdag".

Lines that name no field are the description. The date and time are the group's local
time (settings [group] timezone); start and finish are kept as naive UTC moments."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from db.money import AmountError, parse_amount

from .activity_repeat import RepeatError, read_rule
from .commands import fold
from .dates import parse_date

KEYS = {
    "date": ("datum", "date", "wanneer", "when", "quand", "wann", "dag", "day", "jour", "tag"),
    "time": ("tijd", "time", "heure", "uhrzeit", "zeit", "om", "at", "a"),
    "place": ("plaats", "place", "where", "lieu", "ort", "waar", "adres", "address", "adresse", "location"),
    "capacity": ("plaatsen", "places", "capacity", "platze", "plaetze", "capacite", "max"),
    "price": ("prijs", "price", "prix", "preis", "kost", "cost", "kosten", "tarif"),
    "euro": ("euro", "euros", "eur", "in euro", "prijs in euro", "price in euros", "prix en euros", "preis in euro"),
    "signup": ("inschrijven", "signup", "sign-up", "inscription", "anmeldung"),
    "payee": ("ontvanger", "payee", "beneficiaire", "empfanger", "empfaenger", "betalen aan", "paid to", "pay to"),
    "repeat": ("herhaling", "herhalen", "herhaalt", "repeat", "repeats", "recurring", "recurrence", "repetition",
               "wiederholung", "wiederholen"),
}
KEY = {word: field for field, words in KEYS.items() for word in words}
LINE = re.compile(r"^\s*([^\W\d][\w -]{0,20}?)\s*:\s*(.*)$")
# "14:00", "14.30", "14u", "14h30", "14 uur", "14 Uhr", "2 pm", "2:30pm"
TIME = re.compile(r"\b(\d{1,2})(?:[:.hu](\d{2})|\s*(?:h|u|uur|uhr)\b)?\s*(am|pm)?\b")
NO_WORDS = {"nee", "no", "non", "nein", "neen"}
ASSOCIATION = {"vereniging", "association", "groep", "group", "groupe", "verein", "gruppe", "kas", "de vereniging",
               "the association", "l'association", "der verein", "den verein"}
ORGANISER = {"", "ik", "mij", "me", "moi", "ich", "mich", "mir", "organisator", "organiser", "organizer",
             "organisateur", "organisatrice", "veranstalter", "veranstalterin", "de organisator", "the organiser",
             "l'organisateur"}
FREE = {"", "0", "gratis", "free", "gratuit", "gratuite", "kostenlos", "umsonst", "niets", "nothing", "rien", "nichts"}
BUDGET = re.compile(r"^(?:het |the |le )?budget\s*:?\s*(.+)$")
# A price line with both units: "2 zonnen + 5 euro", "€ 5 en 2", "2 + 5 EUR".
AMOUNT = re.compile(r"(€\s*)?(\d+(?:[.,]\d{1,2})?)\s*(€|euros?\b|eur\b)?")


class FieldError(ValueError):
    def __init__(self, problem: str, value: str = ""):
        super().__init__(problem)
        self.problem, self.value = problem, value


def _time(text: str) -> dt.time | None:
    found = TIME.search(fold(text))
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if found.group(3) == "pm" and hour < 12:
        hour += 12
    if found.group(3) == "am" and hour == 12:
        hour = 0
    return dt.time(hour, minute) if hour < 24 and minute < 60 else None


def _times(text: str) -> tuple[dt.time, dt.time | None] | None:
    """A time, or a start and an end: "14:00", "14:00-17:00", "2 to 5pm", "de 14h à 17h",
    "14 bis 17 Uhr". None when no time is there or it is impossible. A second time not
    joined by a dash or a "to" ("14:00, doors open 13:30") is no end."""
    folded = fold(text)
    first = TIME.search(folded)
    if not first:
        return None
    start = _time(first.group(0))
    joined = re.match(r"\s*(?:-|–|tot|to|till|until|a|à|bis)\s*", folded[first.end():])
    second = TIME.match(folded, first.end() + joined.end()) if joined else None
    end = _time(second.group(0)) if second else None
    if start is None or (second and end is None):
        return None
    if end and second.group(3) == "pm" and not first.group(3) and start.hour + 12 < end.hour:
        start = dt.time(start.hour + 12, start.minute)      # "2 to 5pm"
    return start, end


def _split_time(text: str) -> tuple[str, tuple[dt.time, dt.time | None] | None]:
    """A date line may carry the time: "6 maart 2027 om 14:00", "March 6, 2pm", "6 mars, 14h-17h"."""
    one = r"\d{1,2}(?:[:.hu]\d{2}|\s*(?:h|u|uur|uhr)\b)(?:\s*(?:am|pm))?|\d{1,2}\s*(?:am|pm)"
    to = r"\s*(?:-|–|tot|to|till|until|a|à|bis)\s*"
    found = re.search(rf"\b((?:{one})(?:{to}(?:{one}|\d{{1,2}}))?|\d{{1,2}}{to}\d{{1,2}}\s*(?:am|pm))\s*$",
                      fold(text).strip())
    if not found:
        return text, None
    day = fold(text).strip()[:found.start()]
    # "samedi 12 décembre à 14h", "Sunday 13 December at 10", "6 maart om 14 uur", "am 5. Dezember um 14 Uhr"
    day = re.sub(r"(?:[\s,]+(?:om|at|a|à|um|vanaf|from|des|dès|ab|van|de|from))*[\s,]*$", "", day)
    return day, _times(found.group(1))


def _prices(unit_text: str, euro_text: str) -> tuple[int | None, int | None]:
    """(price in the unit, price in euros), each in hundredths, from the price line and
    the euro line. An amount marked € or euro is in euros; a bare one is in the unit."""
    unit = euro = None
    for text, bare_is_euro in ((unit_text, False), (euro_text, True)):
        if fold(text).strip(" .!") in FREE:
            continue
        for match in AMOUNT.finditer(fold(text)):
            try:
                amount = parse_amount(match.group(2))
            except AmountError:
                raise FieldError("price", text) from None
            if match.group(1) or match.group(3) or bare_is_euro:
                if euro is not None:
                    raise FieldError("price", text)
                euro = amount
            else:
                if unit is not None:
                    raise FieldError("price", text)
                unit = amount
        if text.strip() and unit is None and euro is None:
            raise FieldError("price", text)
    return unit, euro


def _payee(text: str) -> tuple[str, str]:
    """("organiser" | "association" | "budget", the budget's name as written). Anything
    else is refused: a price is never booked to a payee we guessed."""
    folded = " ".join(fold(text).strip(" .!").split())
    if folded in ORGANISER:
        return "organiser", ""
    if folded in ASSOCIATION:
        return "association", ""
    found = BUDGET.match(folded)
    return "budget", (found.group(1) if found else folded)


def read(body: str, timezone: str, now: dt.datetime) -> dict:
    """The draft's fields, or FieldError naming the first problem."""
    found, description = {}, []
    for line in body.splitlines():
        match = LINE.match(line)
        field = KEY.get(fold(match.group(1)).strip()) if match else None
        if field and field not in found:
            found[field] = match.group(2).strip()
        else:
            description.append(line)
    zone = ZoneInfo(timezone)
    today = now.replace(tzinfo=dt.timezone.utc).astimezone(zone).date()
    day_text, times = _split_time(found.get("date", ""))
    day = parse_date(day_text, today) if day_text else None
    if day is None:
        raise FieldError("unreadable", found.get("date", ""))
    if "time" in found:
        times = _times(found["time"])
        if times is None:
            raise FieldError("unreadable", found["time"])
    time, until = times or (dt.time(0, 0), None)
    rule = ""
    if found.get("repeat"):
        try:
            rule = read_rule(found["repeat"], today)
        except RepeatError:
            raise FieldError("repeat", found["repeat"]) from None
    local = dt.datetime.combine(day, time, tzinfo=zone)
    start = local.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if start <= now:
        raise FieldError("past", found.get("date", ""))
    finish = None
    if until is not None:
        if until <= time:
            raise FieldError("unreadable", found.get("time") or found.get("date", ""))
        finish = dt.datetime.combine(day, until, tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)
    capacity = None
    if found.get("capacity"):
        if not re.fullmatch(r"\d{1,5}", found["capacity"]) or int(found["capacity"]) < 1:
            raise FieldError("capacity", found["capacity"])
        capacity = int(found["capacity"])
    price, euro = _prices(found.get("price", ""), found.get("euro", ""))
    signup = fold(found.get("signup", "")).strip(" .!") not in NO_WORDS
    payee, budget = _payee(found.get("payee", ""))
    return {"start": start, "finish": finish, "place": found.get("place", "")[:200],
            "description": "\n".join(description).strip(), "capacity": capacity, "signup": signup,
            "price_cents": price, "price_euro_cents": euro, "payee": payee, "budget_name": budget, "rule": rule}


def read_moment(text: str, activity, timezone: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """A new (start, finish) for `activity` from an organiser's "12 december 14:00",
    "13 March", "14:30-17:00" (same day): what is not said stays as it was, and so does
    the activity's length."""
    zone = ZoneInfo(timezone)
    local = activity.start.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    today = now.replace(tzinfo=dt.timezone.utc).astimezone(zone).date()
    day_text, times = _split_time(text)
    day = parse_date(day_text, today) if day_text.strip() else (local.date() if times else None)
    if day is None:
        raise FieldError("unreadable", text)
    start_time, end_time = times or (local.time().replace(tzinfo=None), None)
    start = dt.datetime.combine(day, start_time, tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)
    if start <= now:
        raise FieldError("past", text)
    if end_time is not None:
        if end_time <= start_time:
            raise FieldError("unreadable", text)
        finish = dt.datetime.combine(day, end_time, tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)
    else:
        finish = start + (activity.finish - activity.start) if activity.finish else None
    return start, finish
