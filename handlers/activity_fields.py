"""The fields of an activity's announcement, in any of the group's languages:
"Datum: zaterdag 6 maart 2027", "Time: 14:00", "Lieu : Buurthuis", "Plätze: 3", "Prijs: 2".

Lines that name no field are the description. The date and time are the group's local
time (settings [group] timezone); the start is kept as a naive UTC moment."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from db.money import AmountError, parse_amount

from .commands import fold
from .dates import parse_date

KEYS = {
    "date": ("datum", "date", "wanneer", "when", "quand", "wann", "dag", "day", "jour", "tag"),
    "time": ("tijd", "time", "heure", "uhrzeit", "zeit", "om", "at", "a"),
    "place": ("plaats", "place", "where", "lieu", "ort", "waar", "adres", "address", "adresse", "location"),
    "capacity": ("plaatsen", "places", "capacity", "platze", "plaetze", "capacite", "max"),
    "price": ("prijs", "price", "prix", "preis", "kost", "cost"),
    "signup": ("inschrijven", "signup", "sign-up", "inscription", "anmeldung"),
    "payee": ("ontvanger", "payee", "beneficiaire", "empfanger", "empfaenger"),
}
KEY = {word: field for field, words in KEYS.items() for word in words}
LINE = re.compile(r"^\s*([^\W\d][\w -]{0,20}?)\s*:\s*(.*)$")
# "14:00", "14.30", "14u", "14h30", "14 uur", "14 Uhr", "2 pm", "2:30pm"
TIME = re.compile(r"\b(\d{1,2})(?:[:.hu](\d{2})|\s*(?:h|u|uur|uhr)\b)?\s*(am|pm)?\b")
NO_WORDS = {"nee", "no", "non", "nein", "neen"}
ASSOCIATION = {"vereniging", "association", "groep", "group", "groupe", "verein", "gruppe", "kas"}


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


def _split_time(text: str) -> tuple[str, dt.time | None]:
    """A date line may carry the time: "6 maart 2027 om 14:00", "March 6, 2pm"."""
    found = re.search(r"\b(\d{1,2}(?:[:.hu]\d{2}|\s*(?:h|u|uur|uhr)\b)(?:\s*(?:am|pm))?|\d{1,2}\s*(?:am|pm))\s*$",
                      fold(text).strip())
    if not found:
        return text, None
    return text.strip()[:found.start()].strip(" ,"), _time(found.group(1))


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
    day_text, time = _split_time(found.get("date", ""))
    day = parse_date(day_text, today) if day_text else None
    if day is None:
        raise FieldError("unreadable", found.get("date", ""))
    if "time" in found:
        time = _time(found["time"])
        if time is None:
            raise FieldError("unreadable", found["time"])
    local = dt.datetime.combine(day, time or dt.time(0, 0), tzinfo=zone)
    start = local.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if start <= now:
        raise FieldError("past", found.get("date", ""))
    capacity = None
    if found.get("capacity"):
        if not re.fullmatch(r"\d{1,5}", found["capacity"]) or int(found["capacity"]) < 1:
            raise FieldError("capacity", found["capacity"])
        capacity = int(found["capacity"])
    price = None
    if found.get("price"):
        amount = re.sub(r"[^\d.,]", "", found["price"])
        try:
            price = parse_amount(amount) if amount else None
        except AmountError:
            price = None
        if price is None:
            raise FieldError("price", found["price"])
    signup = fold(found.get("signup", "")).strip(" .!") not in NO_WORDS
    payee = "association" if fold(found.get("payee", "")).strip(" .") in ASSOCIATION else "organiser"
    return {"start": start, "place": found.get("place", "")[:200], "description": "\n".join(description).strip(),
            "capacity": capacity, "signup": signup, "price_cents": price, "payee": payee}
