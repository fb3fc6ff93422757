"""The group's settings: settings.ini, overridden by LETS_<SECTION>_<KEY> variables."""
from __future__ import annotations

import ast
import configparser
import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from db import categories as category_list
from db.categories import Categories
from db.money import AmountError, parse_amount

from . import setting_checks as checks

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Group:
    name: str = "LETS Demo"
    address: str = "lets@lets.example"
    language: str = "nl"
    unit: str = "zon"
    units: str = "zonnen"
    timezone: str = "Europe/Amsterdam"
    admins: tuple[str, ...] = ()

    @property
    def local_part(self) -> str:
        return self.address.split("@", 1)[0].lower()

    @property
    def domain(self) -> str:
        return self.address.split("@", 1)[1].lower()


@dataclass(frozen=True)
class Database:
    url: str = "sqlite:///var/lets.db"


@dataclass(frozen=True)
class Inbound:
    host: str = "127.0.0.1"
    port: int = 8025
    max_size: int = 10 * 1024 * 1024
    nonmember_reply_hours: int = 24
    max_per_hour: int = 60
    authserv_id: str = ""
    # STARTTLS is offered to sending servers only when both are set (our own MX).
    cert_file: str = ""
    key_file: str = ""


@dataclass(frozen=True)
class Outbound:
    mode: str = "maildir"
    maildir: str = "var/outbox"
    relay_host: str = ""
    relay_port: int = 587
    relay_user: str = ""
    relay_password: str = ""
    # password, or oauth2: a fresh access token from token_command for every connection.
    auth: str = "password"
    token_command: str = ""
    starttls: bool = True
    implicit_tls: bool = False
    verify_tls: bool = True
    ca_file: str = ""
    rate_per_minute: int = 0
    retry_seconds: int = 60
    lease_seconds: int = 600


@dataclass(frozen=True)
class Security:
    secret: str = ""
    secret_file: str = "var/secret.key"


@dataclass(frozen=True)
class Listings:
    days: int = 90
    max_days: int = 365
    warn_days: int = 7
    categories: Categories = category_list.DEFAULT
    # The group's guide price in units per hour ("10", "12,50"); empty or 0 for none.
    guide_rate: str = ""

    def __post_init__(self):
        _ = self.guide_rate_cents   # a guide price that is no amount is refused on loading

    @property
    def guide_rate_cents(self) -> int:
        """The guide price per hour in hundredths of the unit; 0 when the group has none."""
        if not self.guide_rate.strip():
            return 0
        try:
            return parse_amount(self.guide_rate, allow_zero=True)
        except AmountError:
            raise SettingsError(f"[listings] guide_rate: {self.guide_rate!r} is not an amount such as 10") from None


@dataclass(frozen=True)
class Privacy:
    show_addresses: bool = True
    # What BOEKEN/BOOKS shows of members' balances: all, extremes or totals.
    books: str = "extremes"

    def __post_init__(self):
        if self.books not in BOOKS_SHOWN:
            raise SettingsError(f"[privacy] books: {self.books!r} is not one of {', '.join(BOOKS_SHOWN)}")


BOOKS_SHOWN = ("all", "extremes", "totals")


@dataclass(frozen=True)
class Trades:
    confirm_days: int = 14
    reminder_days: int = 7
    coordinators: tuple[str, ...] = ()
    trusted_authserv_id: str = ""
    open_days: int = 90
    refuse_days: int = 7
    verify_senders: bool = True
    verify_dkim: bool = False


@dataclass(frozen=True)
class Limits:
    regular_lower: int = -300
    regular_upper: int = 300
    household_lower: int = -300
    household_upper: int = 300
    guest_lower: int = -20
    guest_upper: int = 300
    honorary_lower: int = -500
    honorary_upper: int = 1000
    organisation_lower: int = -1000
    organisation_upper: int = 1000
    newcomer_lower: int = -150
    newcomer_months: int = 6
    warn_margin: int = 30


@dataclass(frozen=True)
class Digest:
    schedule: str = "weekly monday 07:00"
    blocks: tuple[str, ...] = ("alerts", "offers", "requests", "balance", "transfers", "expiring",
                               "summary", "announcements")
    public_url: str = ""
    bounce_limit: int = 3
    show_extremes: bool = True
    batch: int = 200
    show_volume: bool = True
    connections: int = 4


@dataclass(frozen=True)
class Contributions:
    period: str = "quarterly"
    amount: int = 6
    permille: int = 0
    newcomer_exempt_months: int = 0
    prorata: bool = True
    notice_days: int = 7


@dataclass(frozen=True)
class Dkim:
    selector: str = ""
    key_file: str = ""
    domain: str = ""


@dataclass(frozen=True)
class Imap:
    host: str = ""
    port: int = 993
    user: str = ""
    password: str = ""
    auth: str = "password"
    token_command: str = ""
    ssl: bool = True
    starttls: bool = False
    verify_tls: bool = True
    ca_file: str = ""
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    failed_folder: str = "Failed"
    ignored_folder: str = "Ignored"
    batch: int = 100
    idle_seconds: int = 300
    poll_seconds: int = 60
    max_backoff_seconds: int = 300


@dataclass(frozen=True)
class Membership:
    cancel_months: int = 1
    leaving_months: int = 4
    # Days after the leaving deadline for the administrators to settle in euros; then the
    # membership goes on as a regular one (article 5.5.2).
    decide_days: int = 14
    notice_by: str = "12-01"
    euro_cents_per_unit: int = 10
    offer_reminder_days: int = 60
    positive_years: int = 2
    confirm_days: int = 7


@dataclass(frozen=True)
class Claims:
    default_budget: str = ""
    late_from_month: int = 11
    late_until_month: int = 1


@dataclass(frozen=True)
class Euro:
    first_year: int = 0
    amount_a: int = 1800
    amount_b: int = 2700
    amount_c: int = 3600
    household_factor: str = "2/3"
    # A household member's own amount per category, in cents; 0 takes household_factor.
    household_a: int = 0
    household_b: int = 0
    household_c: int = 0
    late_join_after: str = "07-01"
    late_join_factor: str = "1/2"
    registration: int = 1000
    registration_household_percent: int = 50
    iban: str = ""
    holder: str = ""
    reference_prefix: str = "LETS"
    notice_day: int = 2
    surcharge: int = 250
    reminder_months: tuple[str, ...] = ("3", "6")
    core_group_months: int = 9
    core_group: tuple[str, ...] = ()
    fine: int = 20
    paper_amount: int = 0


@dataclass(frozen=True)
class Web:
    host: str = "127.0.0.1"
    port: int = 8026
    cert_file: str = ""
    key_file: str = ""
    timeout_seconds: int = 10
    max_connections: int = 64


@dataclass(frozen=True)
class Announce:
    mode: str = "now"
    confirm_days: int = 2


@dataclass(frozen=True)
class Activities:
    cancel_hours: int = 24
    confirm_days: int = 2
    approval: bool = False        # the core group publishes what organisers send (lets activity approve)
    charge: str = "after"         # after: booked once held; signup: booked at sign-up, paid back on cancelling
    repeat_days: int = 90         # how far ahead a recurring activity's occurrences are open for sign-up


@dataclass(frozen=True)
class Settings:
    group: Group = field(default_factory=Group)
    database: Database = field(default_factory=Database)
    inbound: Inbound = field(default_factory=Inbound)
    outbound: Outbound = field(default_factory=Outbound)
    security: Security = field(default_factory=Security)
    listings: Listings = field(default_factory=Listings)
    privacy: Privacy = field(default_factory=Privacy)
    trades: Trades = field(default_factory=Trades)
    limits: Limits = field(default_factory=Limits)
    digest: Digest = field(default_factory=Digest)
    contributions: Contributions = field(default_factory=Contributions)
    dkim: Dkim = field(default_factory=Dkim)
    imap: Imap = field(default_factory=Imap)
    membership: Membership = field(default_factory=Membership)
    claims: Claims = field(default_factory=Claims)
    euro: Euro = field(default_factory=Euro)
    web: Web = field(default_factory=Web)
    announce: Announce = field(default_factory=Announce)
    activities: Activities = field(default_factory=Activities)
    # The folder relative paths are resolved against (the settings file's folder).
    base_dir: Path = PROJECT_ROOT

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path made absolute."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix):]))
        return url

    def secret(self) -> bytes:
        if self.security.secret:
            return self.security.secret.encode()
        p = self.path(self.security.secret_file)
        if p.exists():
            return p.read_text().strip().encode()
        raise SettingsError(f"no secret: run `lets init` to generate {p}, or set LETS_SECURITY_SECRET")


class SettingsError(Exception):
    """One or more settings are wrong; `problems` names each, with its value and what is allowed."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


# LETS_ variables that are no setting (the test database, the settings file): never "unknown".
NOT_SETTINGS = ("LETS_SETTINGS", "LETS_TEST_DATABASE")
BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True,
              "0": False, "false": False, "no": False, "off": False, "": False}


def _convert(kind, raw: str, where: str):
    if kind in (Categories, "Categories"):
        try:
            return category_list.parse(raw)
        except category_list.CategoryError as exc:
            raise SettingsError(f"{where}: {exc}") from None
    if kind in (int, "int"):
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{where}: {raw!r} is not a whole number") from None
    if kind in (bool, "bool"):
        try:
            return BOOL_WORDS[raw.strip().lower()]
        except KeyError:
            raise SettingsError(f"{where}: {raw!r} is not true or false "
                                f"(allowed: true, false, yes, no, on, off, 1, 0)") from None
    if kind in ("tuple[str, ...]",):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw.strip()


def _sections() -> dict[str, type]:
    return {section.name: section.default_factory for section in fields(Settings) if section.name != "base_dir"}


def examine(path: str | os.PathLike | None = None, environ=None, files: bool = False
            ) -> tuple[Settings, list[str], Path]:
    """Read the settings and every problem with them: (settings, problems, file). A value
    that is wrong is replaced by its default, so the checks after it still run and the
    operator hears of every mistake at once. With `files`, also that the files named
    (keys, certificates, the secret) exist: what `lets serve` and `lets poll` need."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("LETS_SETTINGS") or "settings.ini")
    parser = configparser.ConfigParser(interpolation=None)
    problems: list[str] = []
    if path.exists():
        try:
            parser.read(path, encoding="utf-8")
        except configparser.DuplicateOptionError as exc:
            raise SettingsError(f"{path} line {exc.lineno}: [{exc.section}] {exc.option} is set twice") from None
        except configparser.DuplicateSectionError as exc:
            raise SettingsError(f"{path} line {exc.lineno}: [{exc.section}] appears twice") from None
        except configparser.MissingSectionHeaderError as exc:
            raise SettingsError(f"{path} line {exc.lineno}: {exc.line.strip()!r} comes before any section: "
                                "a section is written in brackets, e.g. [group], and every key goes under one"
                                ) from None
        except configparser.ParsingError as exc:
            # configparser's own message shows Python's quoting of each line and no way out.
            problems = [f"{path} line {lineno}: {_unquoted(line)!r} is neither a section such as [group] "
                        "nor a key = value" for lineno, line in exc.errors]
            raise SettingsError("\n".join(problems), problems) from None
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: {exc}") from None
    elif environ.get("LETS_SETTINGS") or path.name != "settings.ini":
        raise SettingsError(f"settings file {path} not found")
    known = {name: [key.name for key in fields(cls)] for name, cls in _sections().items()}
    problems += checks.unknown_keys(parser, known)
    problems += checks.unknown_variables(environ, known, NOT_SETTINGS)
    sections = {}
    for name, cls in _sections().items():
        values = {}
        for key in fields(cls):
            variable = f"LETS_{name}_{key.name}".upper()
            if environ.get(variable) is not None:
                where, raw = variable, environ[variable]
            elif parser.has_option(name, key.name):
                where, raw = f"[{name}] {key.name}", parser.get(name, key.name)
            else:
                continue
            try:
                value = _convert(key.type, raw, where)
            except SettingsError as exc:
                problems.append(str(exc))
                continue
            problem = checks.check_value(name, key.name, value, where)
            if problem:
                problems.append(problem)
                continue
            values[key.name] = value
        try:
            sections[name] = cls(**values)
        except SettingsError as exc:  # a section's own check the table does not know yet
            problems.append(str(exc))
            sections[name] = cls()
    base_dir = path.resolve().parent if path.exists() else Path.cwd()
    settings = Settings(base_dir=base_dir, **sections)
    problems += checks.check_together(settings)
    if files:
        problems += checks.check_files(settings)
    return settings, problems, path


def _unquoted(line: str) -> str:
    """A line as configparser reports a parsing error: its repr (Python 3.11 to 3.13)."""
    try:
        line = ast.literal_eval(line) if line[:1] in "'\"" else line
    except (ValueError, SyntaxError):
        pass
    return line.strip()


def load(path: str | os.PathLike | None = None, environ=None) -> Settings:
    """Read the settings file (LETS_SETTINGS or ./settings.ini), then apply LETS_* overrides.
    Raises SettingsError naming every problem: an unknown section, key or LETS_ variable, or
    a value that is not allowed."""
    settings, problems, path = examine(path, environ)
    if len(problems) == 1:
        raise SettingsError(problems[0], problems)
    if problems:
        raise SettingsError(f"{len(problems)} problems in the settings ({path}):\n  " + "\n  ".join(problems),
                            problems)
    return settings


def file_problems(settings: Settings) -> list[str]:
    """The files the settings name that are missing or unreadable (checked at start)."""
    return checks.check_files(settings)


def replace(settings: Settings, **sections) -> Settings:
    """A copy with some keys changed: replace(s, inbound={"port": 2525})."""
    changes = {name: dataclasses.replace(getattr(settings, name), **values) for name, values in sections.items()}
    return dataclasses.replace(settings, **changes)
