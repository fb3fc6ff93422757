"""What each setting may be: the checks `settings.examine` runs, each problem named with its value.

A mistake in settings.ini used to be silent: `mode = smpt` wrote every reply into the
Maildir and a misspelt key kept its default. The checks are a table, one rule per key
that needs more than its type; every other number must be 0 or more.
"""
from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import shlex
import shutil
import ssl
import zoneinfo

from db import euro as euro_rules
from db.categories import LANGUAGES
from db.money import AmountError, parse_amount

from . import schedule

# Not RFC 5322's every corner: what a group's and its administrators' addresses look like.
ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")
DIGEST_BLOCKS = ("alerts", "offers", "requests", "balance", "transfers", "expiring", "summary", "announcements")


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- rules: each takes a value and returns None, or what is wrong with it and what is allowed

def one_of(*allowed: str):
    def check(value):
        if value not in allowed:
            return f"is not one of {', '.join(allowed)}{_suggest(value, allowed)}"
    return check


def between(low: int, high: int | None = None, note: str = ""):
    def check(value):
        if value < low or (high is not None and value > high):
            allowed = f"{low} to {high}" if high is not None else f"{low} or more"
            return f"is out of range: allowed {allowed}{note}"
    return check


def at_most(high: int):
    def check(value):
        if value > high:
            return f"is out of range: allowed {high} or less"
    return check


PORT = between(1, 65535)
# `lets serve` listens on any free port with 0 and prints which (the tests use it).
LISTEN_PORT = between(0, 65535, " (0: any free port)")
POSITIVE = between(1)
NOT_NEGATIVE = between(0)
MONTH = between(1, 12)


def address(value: str):
    if not ADDRESS.match(value):
        return "is not an email address such as lets@example.org"


def addresses(values: tuple[str, ...]):
    for value in values:
        if not ADDRESS.match(value):
            return f"holds {value!r}, which is not an email address such as someone@example.org"


def time_zone(value: str):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return (f"is not a time zone name such as Europe/Amsterdam"
                f"{_suggest(value, zoneinfo.available_timezones())}")


def digest_schedule(value: str):
    # The parser the digest run uses: a schedule it would refuse on the day is refused now.
    try:
        schedule.parse(value)
    except schedule.ScheduleError:
        return "is not a schedule such as 'weekly monday 07:00' (weekly, a day monday to sunday, HH:MM)"


def database_url(value: str):
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in DATABASE_SCHEMES:
        return "is not a database URL: sqlite:///path or postgresql://user@host:port/database"
    if scheme == "sqlite" and not value.startswith("sqlite:///"):
        return "is not a SQLite URL: sqlite:///relative/path, sqlite:////absolute/path"


def blocks(values: tuple[str, ...]):
    for value in values:
        if value not in DIGEST_BLOCKS:
            return f"holds {value!r}, which is not one of {', '.join(DIGEST_BLOCKS)}{_suggest(value, DIGEST_BLOCKS)}"


def month_day(value: str):
    try:
        month, day = (int(part) for part in value.split("-"))
        dt.date(2000, month, day)  # a leap year: 02-29 is a day
    except ValueError:
        return "is not a day of the year such as 12-01 (MM-DD)"


def fraction(value: str):
    try:
        euro_rules.fraction(value)
    except euro_rules.EuroError:
        return "is not a fraction between 0 and 1 such as 2/3"


def months(values: tuple[str, ...]):
    if not all(value.isdigit() and int(value) >= 1 for value in values):
        return "are not whole months such as 3,6"


def amount(value: str):
    if value.strip():
        try:
            parse_amount(value, allow_zero=True)
        except AmountError:
            return "is not an amount such as 10"


def public_url(value: str):
    if value and not re.match(r"^https?://[^/\s]+", value):
        return "is not a URL such as https://lets.example/"


AUTH = one_of("password", "oauth2")

# (section, key) → rule. An int not named here must be 0 or more.
RULES = {
    ("group", "address"): address,
    ("group", "admins"): addresses,
    ("group", "language"): one_of(*LANGUAGES),
    ("group", "timezone"): time_zone,
    ("database", "url"): database_url,
    ("inbound", "port"): LISTEN_PORT,
    ("inbound", "max_size"): POSITIVE,
    ("outbound", "mode"): one_of("maildir", "smtp"),
    ("outbound", "relay_port"): PORT,
    ("outbound", "auth"): AUTH,
    ("outbound", "retry_seconds"): POSITIVE,
    ("outbound", "lease_seconds"): POSITIVE,
    ("listings", "days"): POSITIVE,
    ("listings", "max_days"): POSITIVE,
    ("listings", "guide_rate"): amount,
    ("privacy", "books"): one_of("all", "extremes", "totals"),
    ("trades", "coordinators"): addresses,
    **{("limits", f"{kind}_lower"): at_most(0)
       for kind in ("regular", "household", "guest", "honorary", "organisation", "newcomer")},
    ("digest", "schedule"): digest_schedule,
    ("digest", "blocks"): blocks,
    ("digest", "public_url"): public_url,
    ("digest", "batch"): POSITIVE,
    ("digest", "connections"): POSITIVE,
    ("contributions", "period"): one_of("monthly", "quarterly", "yearly"),
    ("imap", "port"): PORT,
    ("imap", "auth"): AUTH,
    ("imap", "batch"): POSITIVE,
    ("imap", "idle_seconds"): POSITIVE,
    ("imap", "poll_seconds"): POSITIVE,
    ("imap", "max_backoff_seconds"): POSITIVE,
    ("membership", "notice_by"): month_day,
    ("claims", "late_from_month"): MONTH,
    ("claims", "late_until_month"): MONTH,
    ("euro", "household_factor"): fraction,
    ("euro", "late_join_factor"): fraction,
    ("euro", "late_join_after"): month_day,
    ("euro", "notice_day"): between(1, 31),
    ("euro", "reminder_months"): months,
    ("euro", "core_group"): addresses,
    ("web", "port"): LISTEN_PORT,
    ("web", "timeout_seconds"): POSITIVE,
    ("web", "max_connections"): POSITIVE,
    ("announce", "mode"): one_of("now", "digest"),
    ("activities", "cancel_hours"): between(0, 24 * 30),
    ("activities", "confirm_days"): POSITIVE,
    ("activities", "charge"): one_of("after", "signup"),
    ("activities", "repeat_days"): between(7, 366),
}


def check_value(section: str, key: str, value, where: str) -> str | None:
    """The problem with one value read from the file or the environment, or None."""
    rule = RULES.get((section, key))
    if rule is None and isinstance(value, int) and not isinstance(value, bool):
        rule = NOT_NEGATIVE
    problem = rule(value) if rule else None
    if problem is None:
        return None
    shown = ",".join(value) if isinstance(value, tuple) else value
    return f"{where}: {shown!r} {problem}"


# -- names: a section, key or variable lets-mail does not know is a typo until shown otherwise

def unknown_keys(parser, known: dict[str, list[str]]) -> list[str]:
    problems = []
    if parser.defaults():
        problems.append(f"[DEFAULT]: lets-mail reads no defaults section; move "
                        f"{', '.join(parser.defaults())} into the sections they belong to")
    for section in parser.sections():
        if section not in known:
            problems.append(f"[{section}]: no such section{_suggest(section, known)}")
            continue
        for key in parser.options(section):
            if key in parser.defaults() or key in known[section]:
                continue
            elsewhere = [name for name, keys in known.items() if key in keys]
            # A key the file does not set first: `unitz = zonnen` beside `unit = zon` meant units.
            unset = [name for name in known[section] if not parser.has_option(section, name)]
            hint = (_suggest(key, unset) or _suggest(key, known[section])
                    or (f" (it belongs under [{elsewhere[0]}])" if elsewhere else ""))
            problems.append(f"[{section}] {key}: no such key{hint}")
    return problems


def unknown_variables(environ, known: dict[str, list[str]], allowed=()) -> list[str]:
    """LETS_<SECTION>_<KEY> variables whose key is not one of that section's: they would be ignored."""
    problems = []
    for name in sorted(environ):
        if not name.upper().startswith("LETS_") or name in allowed:
            continue
        rest = name[len("LETS_"):].lower()
        for section in sorted(known, key=len, reverse=True):
            if not rest.startswith(section + "_"):
                continue
            key = rest[len(section) + 1:]
            if key not in known[section]:
                close = difflib.get_close_matches(key, known[section], n=1)
                hint = f" (did you mean LETS_{section.upper()}_{close[0].upper()}?)" if close else ""
                problems.append(f"{name}: [{section}] has no key {key!r}{hint}")
            elif name != name.upper():
                problems.append(f"{name}: write it in capitals, LETS_{section.upper()}_{key.upper()}, to be read")
            break
    return problems


# -- keys that only make sense together

def check_together(settings) -> list[str]:
    problems = []
    out, imap = settings.outbound, settings.imap
    if out.mode == "smtp" and not out.relay_host:
        problems.append("[outbound] relay_host: empty, but mode = smtp needs the relay (submission server)")
    for section, values, user_key in (("outbound", out, "relay_user"), ("imap", imap, "user")):
        if values.auth == "oauth2":
            if not values.token_command:
                problems.append(f"[{section}] token_command: empty, but auth = oauth2 needs a command "
                                "that prints an access token")
            if not getattr(values, user_key) and (section == "outbound" or imap.host):
                problems.append(f"[{section}] {user_key}: empty, but auth = oauth2 needs the account's login")
        elif values.token_command:
            problems.append(f"[{section}] token_command: set, but auth = {values.auth!r}: "
                            "set auth = oauth2 to use it, or empty it")
    for section in ("inbound", "web"):
        values = getattr(settings, section)
        if bool(values.cert_file) != bool(values.key_file):
            given, missing = ("cert_file", "key_file") if values.cert_file else ("key_file", "cert_file")
            problems.append(f"[{section}] {missing}: empty, but {given} is set: TLS needs both")
    return problems


# -- files: checked when `lets serve`, `lets poll` or `lets check-config` starts

def _file(settings, where: str, value: str) -> str | None:
    path = settings.path(value)
    if not path.exists():
        return f"{where}: {value!r}: {path} does not exist"
    if not path.is_file():
        return f"{where}: {value!r}: {path} is not a file"
    if not os.access(path, os.R_OK):
        return f"{where}: {value!r}: {path} cannot be read by this user"
    return None


def _command(settings, where: str, command: str) -> str | None:
    try:
        program = shlex.split(command)[0]
    except (ValueError, IndexError):
        return f"{where}: {command!r} is not a command line"
    if "/" in program:
        path = settings.path(program)
        found = path.is_file() and os.access(path, os.X_OK)
    else:
        found = shutil.which(program) is not None
    if not found:
        return f"{where}: {command!r}: the program {program!r} is not found or not executable"
    return None


def check_files(settings) -> list[str]:
    problems = []
    security = settings.security
    if not security.secret and not settings.path(security.secret_file).exists():
        problems.append(f"[security] secret_file: {settings.path(security.secret_file)} does not exist: "
                        "run `lets init` to generate it, or set LETS_SECURITY_SECRET")
    named = [("[dkim] key_file", settings.dkim.key_file), ("[outbound] ca_file", settings.outbound.ca_file),
             ("[imap] ca_file", settings.imap.ca_file)]
    for section in ("inbound", "web"):
        values = getattr(settings, section)
        named += [(f"[{section}] cert_file", values.cert_file), (f"[{section}] key_file", values.key_file)]
    missing = set()
    for where, value in named:
        if value and (problem := _file(settings, where, value)):
            problems.append(problem)
            missing.add(where)
    for section in ("inbound", "web"):
        values = getattr(settings, section)
        if values.cert_file and values.key_file and not {f"[{section}] cert_file", f"[{section}] key_file"} & missing:
            try:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(settings.path(values.cert_file), settings.path(values.key_file))
            except (ssl.SSLError, OSError) as exc:
                problems.append(f"[{section}] cert_file: {values.cert_file!r} and key_file {values.key_file!r} "
                                f"are not a PEM certificate and its private key: {exc}")
    for where, values in (("[outbound] token_command", settings.outbound), ("[imap] token_command", settings.imap)):
        if values.auth == "oauth2" and values.token_command:
            if problem := _command(settings, where, values.token_command):
                problems.append(problem)
    return problems
