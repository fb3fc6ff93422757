"""The fields of an offer or request: "Categorie: tuin", "Niveau: S", "Prijs: 10 zon per uur"."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from db.money import AmountError, parse_amount

from .commands import fold
from .dates import parse_date

# Field labels in the group's languages, compared without case and accents.
LABELS = {
    "category": ("categorie", "category", "rubriek", "rubrique", "kategorie", "rubrik"),
    "level": ("niveau", "level", "kwaliteit", "qualite", "quality", "qualität", "qualitaet", "stufe"),
    "rate": ("prijs", "tarief", "price", "rate", "prix", "tarif", "preis"),
    "expires": ("geldig tot", "tot", "valid until", "expires", "until", "valable jusqu'au",
                "valable jusqu'a", "jusqu'au", "expire", "gültig bis", "gueltig bis", "bis", "läuft ab",
                "laeuft ab"),
}
LABEL = {fold(label): name for name, labels in LABELS.items() for label in labels}
FIELD_LINE = re.compile(r"^\s*([^\W\d_][\w' ]{0,20}?)\s*:\s*(.*?)\s*$")

LEVELS = {
    "a": "A", "amateur": "A", "amateur (a)": "A",
    "s": "S", "semi": "S", "semi-skilled": "S", "semi-professioneel": "S", "semi-professionnel": "S",
    "v": "V", "vakman": "V", "professional": "V", "professioneel": "V", "professionnel": "V", "pro": "V",
    "laie": "A", "halbprofi": "S", "semiprofessionell": "S", "halbprofessionell": "S",
    "profi": "V", "fachmann": "V", "fachfrau": "V", "fachkraft": "V", "professionell": "V",
}


@dataclass
class ListingFields:
    title: str
    description: str = ""
    category: str = ""
    level: str = ""
    rate_cents: int | None = None
    rate_text: str = ""
    expires: dt.date | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)   # (field, what the member wrote)

    def as_dict(self) -> dict:
        return {
            "title": self.title, "description": self.description, "category": self.category,
            "level": self.level, "rate_cents": self.rate_cents, "rate_text": self.rate_text,
            "expires": self.expires.isoformat() if self.expires else None,
            "errors": [f"{name}: {value}" for name, value in self.errors],
        }


def parse(title: str, body: str, today: dt.date | None = None) -> ListingFields:
    """Split a listing's body into known fields and the free description. `today` places
    a date written without a year ("1 maart"): the next such day."""
    today = today or dt.date.today()
    result = ListingFields(title=re.sub(r"\s+", " ", title).strip()[:200])
    description = []
    for line in body.splitlines():
        found = FIELD_LINE.match(line)
        name = LABEL.get(fold(found.group(1))) if found else None
        if not name:
            description.append(line.rstrip())
            continue
        value = found.group(2)
        if name == "category":
            result.category = fold(value).strip()[:60]
        elif name == "level":
            level = LEVELS.get(value.strip().lower())
            if level:
                result.level = level
            else:
                result.errors.append(("level", value))
        elif name == "rate":
            result.rate_text = value[:200]
            number = re.search(r"\d+(?:[.,]\d+)?", value)
            if number:
                try:
                    result.rate_cents = parse_amount(number.group(0), allow_zero=True)
                except AmountError:
                    result.errors.append(("rate", value))
        elif name == "expires":
            result.expires = parse_date(value, today)
            if result.expires is None:
                result.errors.append(("expires", value))
    result.description = "\n".join(description).strip()[:5000]
    if not result.title:
        # "AANBOD:" with nothing after it: the description's first line is the title.
        first, _, rest = result.description.partition("\n")
        result.title, result.description = first.strip()[:200], rest.strip()
    return result
