"""Moving from another system: members, opening balances and listings read from its CSV exports.

Every import is planned first: each row read, checked against the file and the database,
and every problem kept with its line. Only a plan without problems is applied, in one
transaction: a file with one bad row imports nothing, so a corrected file can simply be
imported again.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from . import csvfile, import_values as values, members, paper, write_transaction
from .import_headers import HEADERS, REQUIRED
from .import_members import FORMER, former_numbers, plan_members
from .categories import Categories
from .ledger import open_balance
from .members import MemberError
from .membership import say_adult
from .models import Account, Address, Listing, Member, MemberEvent, Transfer

OPENING = ("opening", "Opening balances")   # (code, name) of the account opening balances come from
DESCRIPTION = "opening balance from the former system"

class ImportRefused(ValueError):
    """The file cannot be imported: `problems` are (line, what), line 0 for the file as a whole."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__("; ".join(f"line {line}: {text}" if line else text for line, text in problems[:5]))
        self.problems = problems


@dataclass
class Plan:
    kind: str                                   # members | balances | listings
    source: str                                 # the file's name, kept with what it made
    table: csvfile.Table
    items: list[dict] = field(default_factory=list)          # what will be written, one per row kept
    skipped: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(item.get("cents", 0) for item in self.items)


@dataclass
class Options:
    today: dt.date
    language: str = "nl"                        # for rows without one: the group's
    categories: Categories | None = None
    listing_days: int = 90
    per_hour_cents: int | None = None           # balances in hours, each worth this much
    contacts: bytes | None = None               # eLAS/eLAND's contacts export, for members' addresses


def plan(kind: str, data: bytes, *, source: str, options: Options, mapping=()) -> Plan:
    """Read and check a whole file; ImportRefused with every problem, or the plan to apply."""
    try:
        table = csvfile.read(data, HEADERS[kind], csvfile.parse_map(mapping, list(HEADERS[kind])))
    except csvfile.CsvError as exc:
        raise ImportRefused([(0, str(exc))]) from None
    missing = [" or ".join(names) for names in REQUIRED[kind] if not any(n in table.columns.values() for n in names)]
    if missing and len(_header(table)) == 1:
        # One column holding them all: the file separates its columns with something else (|, :).
        raise ImportRefused([(0, f"the file has one column, {_header(table)[0]!r}: its columns must be "
                                 "separated by , or ; or a tab; save it again as CSV")])
    if missing:
        raise ImportRefused([(0, f"no column for {name}; the file's columns are {', '.join(_header(table))}: "
                                f"name one with --map COLUMN=FIELD") for name in missing])
    problems = [(row.line, row.problem) for row in table.rows if row.problem]
    table.rows = [row for row in table.rows if not row.problem]
    result = Plan(kind, source, table)
    {"members": plan_members, "balances": _balances, "listings": _listings}[kind](result, options, problems)
    if problems:
        raise ImportRefused(sorted(problems))
    return result


def _header(table: csvfile.Table) -> list[str]:
    return [*table.columns, *table.unused]


def _balances(result: Plan, options: Options, problems) -> None:
    find = member_finder()
    seen: dict[int, int] = {}
    # Read once for the whole file: a file of thousands of members is checked in a few queries.
    accounts = {account.member_id: account for account in Account.select().where(Account.member.is_null(False))}
    opened = {}
    for transfer in Transfer.select(Transfer.number, Transfer.payer, Transfer.payee).where(
            Transfer.initiator == "opening", Transfer.state == "booked"):
        opened[transfer.payer_id] = opened[transfer.payee_id] = transfer.number
    for row in result.table.rows:
        member, problem = find(row.values)
        if problem:
            problems.append((row.line, problem))
            continue
        try:
            cents = values.amount(row.values.get("balance", ""), per_hour_cents=options.per_hour_cents)
        except ValueError as exc:
            problems.append((row.line, f"balance: {exc}"))
            continue
        if member.id in seen:
            problems.append((row.line, f"member {member.number} is also on line {seen[member.id]}"))
            continue
        seen[member.id] = row.line
        account = accounts[member.id]
        if account.id in opened:
            problems.append((row.line, f"member {member.number} {member.name} has an opening balance already "
                                       f"(transfer #{opened[account.id]}): nothing is booked twice"))
            continue
        if cents == 0:
            result.skipped.append((row.line, f"member {member.number}: balance zero, nothing to book"))
            continue
        result.items.append({"member": member, "account": account, "cents": cents, "line": row.line})


def _listings(result: Plan, options: Options, problems) -> None:
    find = member_finder()
    seen: dict[tuple, int] = {}
    for row in result.table.rows:
        get = row.values.get
        member, problem = find(row.values)
        if problem:
            problems.append((row.line, problem))
            continue
        title = " ".join(get("title", "").split())
        try:
            kind = values.listing_kind(get("kind", ""))
            expires = values.date(get("expires", "")) or options.today + dt.timedelta(days=options.listing_days)
            created = values.date(get("created", ""))
        except ValueError as exc:
            problems.append((row.line, str(exc)))
            continue
        if not title:
            problems.append((row.line, "no title"))
            continue
        if len(title) > 200:
            problems.append((row.line, f"the title is {len(title)} characters long; at most 200"))
            continue
        same = (member.id, kind, title.lower())
        if same in seen:
            problems.append((row.line, f"the same {kind} as on line {seen[same]}"))
            continue
        seen[same] = row.line
        if Listing.select().where(Listing.member == member, Listing.kind == kind, Listing.title == title,
                                  Listing.status == "active").exists():
            problems.append((row.line, f"member {member.number} has this {kind} already: {title!r}"))
            continue
        if expires < options.today:
            result.skipped.append((row.line, f"expired on {expires.isoformat()}"))
            continue
        category = options.categories.code_for(get("category", "")) if options.categories else ""
        result.items.append({"member": member, "kind": kind, "title": title, "expires": expires,
                             "description": get("description", ""), "category": category,
                             "created": created, "line": row.line})


def member_finder() -> Callable[[dict], tuple[Member | None, str]]:
    """Finds the member a balance or a listing belongs to: by the number or code of the
    former system (kept as our number, or recorded when it was no number), else by address."""
    former = former_numbers()
    by_id = {member.id: member for member in Member.select()}
    by_number = {member.number: member for member in by_id.values()}
    by_address = {}
    for email, member_id in Address.select(Address.email, Address.member).order_by(Address.member).tuples():
        by_address.setdefault(email, by_id[member_id])   # of a household sharing it, the first, as by mail

    def find(row: dict) -> tuple[Member | None, str]:
        code, address = row.get("number", ""), row.get("email", "")
        if "@" in code:
            code, address = "", address or code
        if code:
            member_id = former.get(code.lower())
            found = by_id.get(member_id) if member_id else by_number.get(int(code)) if code.isdigit() else None
            if found is not None:
                return found, ""
        if address:
            found = by_address.get(members.normalise_address(address))
            if found is not None:
                return found, ""
        said = " or ".join(f"{what} {value}" for what, value in (("number", code), ("address", address)) if value)
        return None, f"no member with {said}" if said else "no member number or address"

    return find


def apply(result: Plan, *, now: dt.datetime, entered_by: str, limits=None,
          progress: Callable[[int], None] = lambda done: None) -> int:
    """Write the plan in one transaction; how many rows it imported."""
    with write_transaction():
        if result.kind == "balances":
            opening, _ = Account.get_or_create(code=OPENING[0], defaults={"name": OPENING[1]})
        for item in result.items:
            if result.kind == "members":
                _add_member(item, result.source, now, entered_by)
            elif result.kind == "balances":
                open_balance(item["account"], opening, item["cents"], DESCRIPTION, now=now,
                             entered_by=entered_by, limits=limits)
            else:
                Listing.create(member=item["member"], kind=item["kind"], title=item["title"],
                               description=item["description"], category=item["category"],
                               expires=item["expires"], created=_moment(item["created"]) or now)
            progress(1)
    return len(result.items)


def _moment(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time()) if day else None


def _add_member(item: dict, source: str, now: dt.datetime, entered_by: str) -> None:
    try:
        member = members.add(item["name"], item["email"], type=item["type"], language=item["language"],
                             status=item["status"], joined=item["joined"], number=item["number"])
    except MemberError as exc:   # the plan checked all this; a writer since then did not
        raise ImportRefused([(item["line"], str(exc))]) from None
    for extra in item["more_emails"]:
        Address.create(member=member, email=extra)
    if item["adult"] is not None:
        say_adult(member, item["adult"])
    if item["paper"]:
        paper.set_paper(member, True, now=now, entered_by=entered_by)
    reason = f"imported from {source}" + (f"{FORMER}{item['former']}" if item["former"] else "")
    MemberEvent.create(member=member, status=member.status, previous="", reason=reason,
                       entered_by=entered_by, created=now)

