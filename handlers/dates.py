"""Dates as members write them: "1 maart 2027", "March 1st", "1er mars 2027", "01/03/2027".

Month and weekday names come from babel's locale data (CLDR), in every language the
group speaks, wide and abbreviated ("mrt", "Mar.", "févr."). Numeric dates are read day
first, as everywhere our groups are (01/03/2027 is 1 March). A date without a year is
the next such day from today.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from babel.dates import get_day_names, get_month_names

from .commands import fold

LOCALES = ("nl", "en", "fr", "de")
ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
# "1st", "2nd", "3rd", "4th", "1er", "1re", "2e", "2ème", "1ste", "2de", "8ste", "1."
ORDINAL = re.compile(r"^(\d{1,4})(?:st|nd|rd|th|er|re|e|eme|ieme|ste|de|ste|\.)?$")
# Words around a date that say nothing about it.
FILLER = {"le", "la", "the", "of", "de", "den", "op", "on", "tot", "until", "jusqu'au", "jusqu'a", "au", "am", "bis",
          "en", "and", "et", "van", "om", "zum", "und", "ab"}


@lru_cache(maxsize=1)
def _names() -> tuple[dict[str, int], set[str]]:
    """Folded month names and abbreviations → month number; folded weekday names."""
    months, days = {}, set()
    for locale in LOCALES:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                months[fold(name).rstrip(".")] = number
            for name in get_day_names(width, locale=locale).values():
                days.add(fold(name).rstrip("."))
    # Abbreviations people write that CLDR spells otherwise ("sept", "juil", "maa"), and
    # März without its umlaut ("Maerz").
    months.update({"sept": 9, "juil": 7, "janv": 1, "fevr": 2, "avr": 4, "mrt": 3, "okt": 10,
                   "maerz": 3})
    return months, days


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The day `text` names, or None when it names none (or an impossible one)."""
    text = fold(text).strip().rstrip(".")
    if not text:
        return None
    try:
        if found := ISO.match(text):
            return dt.date(int(found[1]), int(found[2]), int(found[3]))
        if found := NUMERIC.match(text):
            year = int(found[3])
            return dt.date(year + 2000 if year < 100 else year, int(found[2]), int(found[1]))
    except ValueError:
        return None
    months, days = _names()
    month, numbers = None, []
    for word in re.split(r"[\s,]+", text):
        word = word.strip(".")
        if not word or word in FILLER or word in days:
            continue
        if word in months and month is None:
            month = months[word]
            continue
        number = ORDINAL.match(word)
        if not number:
            return None   # a word we cannot place: not a date we dare read
        numbers.append(int(number.group(1)))
    if month is None or not 1 <= len(numbers) <= 2:
        return None
    day = next((n for n in numbers if 1 <= n <= 31), None)
    years = [n for n in numbers if n is not day]
    if day is None:
        return None
    try:
        if years:
            year = years[0] + 2000 if years[0] < 100 else years[0]
            return dt.date(year, month, day)
        candidate = dt.date(today.year, month, day)
        return candidate if candidate >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None
