"""The cells of another system's export read as our values: amounts, dates, languages, kinds and statuses.

Each reader returns the value or raises ValueError with what is wrong, said so that the
administrator can find it in the file; SKIP means the row is not one of ours (an eLAS
interlets account is another group, not a member).
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from .categories import key
from .money import MAX_CENTS

SKIP = "skip"

# eLAS/eLAND number a user's status: 1 active, 2 leaving ("uitstapper"), 3 new ("instapper"),
# 0 inactive, 5 and 6 interested (info pack, info evening), 7 an external account.
STATUSES = {
    "active": ("active", "actief", "actif", "1", "3", "instapper", "enabled", "lid", "member"),
    "leaving": ("leaving", "uitstapper", "2", "opgezegd", "vertrekkend", "departing", "ondepart", "demissionnaire"),
    "left": ("left", "inactive", "inactief", "inactif", "0", "disabled", "removed", "uitgeschreven", "exlid",
             "formermember", "ancienmembre", "vertrokken", "parti"),
    "applicant": ("applicant", "5", "6", "kandidaat", "aspirant", "pending", "candidat", "aanmelding",
                  "infopakket", "infomoment"),
    "suspended": ("suspended", "blocked", "geschorst", "geblokkeerd", "suspendu", "bloque"),
    SKIP: ("7", "extern", "external", "interlets", "interletsaccount"),
}
TYPES = {
    "regular": ("regular", "user", "admin", "member", "members", "lid", "leden", "membre", "membres", "gewoon",
                "particulier", "individual", "person", "personne", "persoon", "normal", "normaal"),
    "household": ("household", "huishouden", "gezin", "menage", "famille", "family", "duo"),
    "guest": ("guest", "gast", "invite", "bezoeker", "visitor"),
    "honorary": ("honorary", "erelid", "membredhonneur", "honneur", "honorarymember"),
    "organisation": ("organisation", "organization", "organisations", "organizations", "organisatie",
                     "vereniging", "association", "bedrijf", "company", "business", "entreprise"),
    SKIP: ("interlets", "extern", "external", "system", "systeem"),
}
LANGUAGES = {
    "nl": ("nl", "nederlands", "dutch", "vlaams", "flemish", "neerlandais", "nlbe", "nlnl"),
    "en": ("en", "english", "engels", "anglais", "engb", "enus"),
    "fr": ("fr", "francais", "french", "frans", "frbe", "frfr"),
    "de": ("de", "deutsch", "german", "duits", "allemand", "dede", "deat", "dech", "debe"),
}
KINDS = {
    # eLAS/eLAND msg_type: 0 a request ("vraag"), 1 an offer ("aanbod").
    "offer": ("offer", "offers", "aanbod", "aangeboden", "offre", "o", "a", "1", "supply", "offering"),
    "request": ("request", "requests", "vraag", "gevraagd", "demande", "wanted", "want", "v", "r", "d", "0",
                "need", "besoin"),
}
YES = ("yes", "ja", "oui", "y", "j", "true", "waar", "vrai", "1", "x")
NO = ("no", "nee", "non", "n", "false", "onwaar", "faux", "0")
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%y", "%d/%m/%y", "%Y%m%d")
EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]+$")


def _lookup(table: dict[str, tuple[str, ...]], text: str, what: str) -> str:
    wanted = key(text)
    for value, words in table.items():
        if wanted in words:
            return value
    raise ValueError(f"{what} {text!r} is not one we know ({', '.join(v for v in table if v != SKIP)}); "
                     f"correct it or leave the column out with --map")


def status(text: str) -> str:
    return _lookup(STATUSES, text, "status") if text else "active"


def member_type(text: str) -> str:
    return _lookup(TYPES, text, "type") if text else "regular"


def language(text: str, default: str) -> str:
    return _lookup(LANGUAGES, text, "language") if text else default


def listing_kind(text: str) -> str:
    if not text:
        raise ValueError("no kind: offer or request")
    return _lookup(KINDS, text, "kind")


def yes_no(text: str) -> bool | None:
    if not text:
        return None
    if key(text) in YES:
        return True
    if key(text) in NO:
        return False
    raise ValueError(f"{text!r} is not yes or no")


def email(text: str) -> str | None:
    address = text.strip().strip("<>").lower()
    if address.startswith("mailto:"):
        address = address[len("mailto:"):]
    if not address:
        return None
    if not EMAIL.match(address):
        raise ValueError(f"{text!r} is not an email address")
    return address


def date(text: str) -> dt.date | None:
    """A day written as 2024-03-01 or 1-3-2024 (day first, as in Belgium, the Netherlands
    and France), with or without the time eLAS writes after it."""
    day = text.strip().split("T")[0].split(" ")[0]
    if not day:
        return None
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(day, form).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date such as 2024-03-01 or 01-03-2024")


def adult_on(born: dt.date, today: dt.date) -> bool:
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= 18


def amount(text: str, *, per_hour_cents: int | None = None) -> int:
    """Signed hundredths of the unit. Decimal comma or point; thousands separated by a
    space, a point or a comma when the other is the decimal sign ("1.234,50",
    "1,234.50"). "1.234" alone is refused: a thousand or one and a bit, we cannot tell.
    With `per_hour_cents` the cell holds hours ("1,5" or "1:30"), each worth that much."""
    clean = text.strip().replace("\u2212", "-").replace("\u00a0", "").replace(" ", "").replace("'", "")
    negative = clean.startswith("-")
    clean = clean.lstrip("+-")
    if per_hour_cents is not None and re.fullmatch(r"\d{1,6}:\d{2}", clean):
        hours, minutes = clean.split(":")
        number = Decimal(hours) + Decimal(minutes) / 60
    elif re.fullmatch(r"\d{1,6}:\d{2}", clean):
        raise ValueError(f"{text!r} is a time, not an amount: for balances in hours add --hours")
    else:
        number = _decimal(text, clean)
    if per_hour_cents is not None:
        number *= Decimal(per_hour_cents) / 100
    cents = number * 100
    if cents != cents.to_integral_value() and per_hour_cents is None:
        raise ValueError(f"{text!r} has more than two decimals")
    cents = int(cents.to_integral_value())
    if cents >= MAX_CENTS:
        raise ValueError(f"{text!r} is too large")
    return -cents if negative else cents


def _decimal(text: str, clean: str) -> Decimal:
    if not clean:
        raise ValueError("no amount")
    if "." in clean and "," in clean:
        decimal_sign = "." if clean.rfind(".") > clean.rfind(",") else ","
        thousands = "," if decimal_sign == "." else "."
        whole, _, fraction = clean.rpartition(decimal_sign)
        if not re.fullmatch(r"\d{1,3}(?:" + re.escape(thousands) + r"\d{3})*", whole):
            raise ValueError(f"{text!r} is not an amount")
        clean = whole.replace(thousands, "") + "." + fraction
    elif re.fullmatch(r"\d{1,3}([.,]\d{3})+", clean) and len(re.findall(r"[.,]", clean)) > 1:
        clean = re.sub(r"[.,]", "", clean)          # 1.234.567: only thousands
    elif re.fullmatch(r"\d+[.,]\d{3}", clean):
        raise ValueError(f"{text!r}: a thousand and more, or less than two? write 1234 or 1,23")
    else:
        clean = clean.replace(",", ".")
    if not re.fullmatch(r"\d+(?:\.\d+)?", clean):
        raise ValueError(f"{text!r} is not an amount")
    try:
        return Decimal(clean)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
