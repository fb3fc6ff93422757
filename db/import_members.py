"""Members from another system's export, checked row by row before any is added (db/importing.py)."""
from __future__ import annotations

from . import csvfile, import_values as values
from .models import Address, Member, MemberEvent

FORMER = "; former number "   # how an imported member's old number or code is kept, in the import's MemberEvent
LARGEST = 2**31 - 1            # Member.number is a 32-bit integer: a longer code is recorded, not kept
# eLAS/eLAND's "Contactgegevens" export: one row per contact, its kind in `abbrev`.
CONTACTS = {"number": ["letscode", "code", "number"], "kind": ["abbrev", "type", "soort", "kind"],
            "value": ["value", "waarde", "valeur"]}
MAIL_KINDS = ("mail", "email")


def former_numbers() -> dict[str, int]:
    """{former number or code, lower case: member id} of every imported member."""
    found = {}
    for member_id, reason in (MemberEvent.select(MemberEvent.member, MemberEvent.reason)
                              .where(MemberEvent.reason.contains(FORMER)).tuples()):
        found[reason.rpartition(FORMER)[2].strip().lower()] = member_id
    return found


def plan_members(result, options, problems: list) -> None:
    """Fill `result.items` with the members to add, `problems` with (line, what is wrong)."""
    contacts = _contacts(options.contacts, problems) if options.contacts else {}
    taken = dict(Member.select(Member.number, Member.name).tuples())
    addresses = dict(Address.select(Address.email, Member.number).join(Member).tuples())
    imported = former_numbers()
    seen_address: dict[str, int] = {}
    seen_number: dict[int, int] = {}
    seen_code: dict[str, int] = {}
    leaving: list[str] = []
    for row in result.table.rows:
        get = row.values.get
        name = " ".join((get("name") or get("short_name")
                         or " ".join(filter(None, (get("first_name"), get("last_name"))))).split())
        try:
            status = values.status(get("status", ""))
            kind = values.member_type(get("type", ""))
            language = values.language(get("language", ""), options.language)
            joined = values.date(get("joined", "")) or options.today
            born = values.date(get("born", ""))
            adult = values.yes_no(get("adult", ""))
            on_paper = bool(values.yes_no(get("paper", "")))
            address = values.email(get("email", ""))
        except ValueError as exc:
            problems.append((row.line, str(exc)))
            continue
        if values.SKIP in (status, kind):
            result.skipped.append((row.line, f"{name or 'no name'}: an account of another group, not a member"))
            continue
        if not name:
            problems.append((row.line, "no name"))
            continue
        if status == "leaving":
            # Leaving here is a notice with its dates (db/departures.py), which the
            # administrators enter with `lets member cancel --at`; until then, active.
            status = "active"
            leaving.append(str(row.line))
        code = get("number", "")
        emails = list(dict.fromkeys([address] * bool(address) + contacts.get(code.lower(), [])))
        number = int(code) if code.isdigit() and 0 < int(code) <= LARGEST else None
        bad = len(problems)
        for email in emails:
            if email in seen_address:
                problems.append((row.line, f"{email} is also on line {seen_address[email]} (members of a household "
                                           "share an address: add the second with lets member add --household-of)"))
            elif email in addresses:
                problems.append((row.line, f"{email} is already the address of member {addresses[email]}"))
            seen_address.setdefault(email, row.line)
        if number is not None and number in seen_number:
            problems.append((row.line, f"member number {number} is also on line {seen_number[number]}"))
        elif number is not None and number in taken:
            problems.append((row.line, f"member number {number} is taken by {taken[number]}"))
        if code and code.lower() in seen_code:
            problems.append((row.line, f"number {code} is also on line {seen_code[code.lower()]}"))
        elif code and code.lower() in imported:
            problems.append((row.line, f"number {code} was imported before"))
        if number is not None:
            seen_number.setdefault(number, row.line)
        if code:
            seen_code.setdefault(code.lower(), row.line)
        if len(problems) > bad:
            continue
        if adult is None and born is not None:
            adult = values.adult_on(born, options.today)
        result.items.append({"line": row.line, "name": name[:200], "email": emails[0] if emails else None,
                             "more_emails": emails[1:], "type": kind, "status": status, "language": language,
                             "joined": joined, "adult": adult, "paper": on_paper, "number": number,
                             "former": code})
    top = max([*taken, *seen_number, 0])
    for item in result.items:
        if item["number"] is None:
            top += 1
            item["number"] = top
    if leaving:
        result.notes.append(f"{len(leaving)} leaving in the former system (line {', '.join(leaving)}), imported as "
                            "active: record each notice with lets member cancel MEMBER --at DAY")
    without = sum(1 for item in result.items if item["email"] is None)
    if without:
        result.notes.append(f"{without} without an email address: they trade through a coordinator "
                            "(lets member set-coordinator) and may get the guide on paper (lets member set-paper)")


def _contacts(data: bytes, problems: list) -> dict[str, list[str]]:
    """{letscode, lower case: addresses} from eLAS/eLAND's contacts export."""
    try:
        table = csvfile.read(data, CONTACTS)
    except csvfile.CsvError as exc:
        problems.append((0, f"contacts file: {exc}"))
        return {}
    if not {"number", "kind", "value"} <= set(table.columns.values()):
        problems.append((0, "contacts file: it needs the columns letscode, abbrev and value (eLAS/eLAND's "
                            "contacts export)"))
        return {}
    found: dict[str, list[str]] = {}
    for row in table.rows:
        if row.values["kind"].lower() not in MAIL_KINDS:
            continue
        try:
            address = values.email(row.values["value"])
        except ValueError as exc:
            problems.append((row.line, f"contacts file: {exc}"))
            continue
        if address:
            found.setdefault(row.values["number"].lower(), []).append(address)
    return found
