"""Forgetting a departed member: their personal data erased, the ledger kept whole.

The member keeps a number, an account and every booked transfer (amounts, dates,
account codes), so balances still sum to zero and the hash chain still verifies; the
name becomes "Former member #N", the addresses one unroutable placeholder (RFC 2606
`.invalid`), and the texts they wrote or that were written about them are removed:
their mail, listings, and the reasons kept with their status changes and payments.
Where others wrote about them (mail, other members' events, announcements, transfer
descriptions) their addresses, phone numbers and names are replaced (db/redact.py).

Then no old copy may stay in the files: SQLite keeps a row's old bytes in free pages and
in its write-ahead log, and the SMTP edge's spool (db/spool.py) keeps each mail it took.
After the transaction, under the write lock, the taken mail is deleted from the spool,
and the spool and the database are VACUUMed with their WAL emptied; on PostgreSQL the
changed tables are VACUUMed (its own WAL and old row versions go with its checkpoints).
"""
from __future__ import annotations

import datetime as dt
import re
from contextlib import nullcontext

from peewee import CharField, TextField

from . import database, is_postgres, is_sqlite, ledger, write_transaction
from .export import addresses_of, inbound_of
from .members import account as account_of
from .models import (MODELS, Account, Address, Bounce, ConfirmToken, ConsentToken, DigestDelivery, InboundMessage,
                     Listing, MeetingItem, Member, MemberCoordinator, MemberLimit, MemberPreference, Notice,
                     OutboundMessage, SpoolMark, Transfer)
from .redact import Redactor, phones_in, phones_in_mail
from .spool import Spool, beside

DEPARTED = ("left", "expelled")
FORMER = {"nl": "Oud-lid #{number}", "en": "Former member #{number}", "fr": "Ancien membre #{number}",
          "de": "Ehemaliges Mitglied #{number}"}
ERASED_MAIL = b""

# Columns, in whichever table, where administrators and members write free text (a
# status change's reason, who entered it, a listing, an announcement, a delivery error):
# redacted where they name the forgotten member. A table added later is covered by
# naming its columns so; tests/test_privacy_forget.py holds every other text column to
# account. Transfers' own columns are the ledger's (ledger.anonymise).
WRITTEN = ("reason", "entered_by", "confirmed_by", "address", "subject", "body", "title", "description", "rate_text",
           "error", "last_error", "place")
# Rows about the member themselves whose `reason` is erased whole ("verhuisd naar …", "ziek,
# uitstel tot …"): every table with a member and a reason, but the mail, which is emptied.
REASONS = tuple(model for model in MODELS if {"member", "reason"} <= set(model._meta.fields)
                and model is not InboundMessage)


def written() -> list[tuple[type, list]]:
    """(table, its WRITTEN text columns), Transfer left to the ledger."""
    found = []
    for model in MODELS:
        fields = [field for field in model._meta.sorted_fields
                  if field.name in WRITTEN and isinstance(field, (CharField, TextField))]
        if fields and model is not Transfer:
            found.append((model, fields))
    return found


# The tables forgetting writes, VACUUMed afterwards on PostgreSQL.
TOUCHED = tuple(dict.fromkeys((Member, Account, Address, Bounce, InboundMessage, OutboundMessage, Listing, Notice,
                               Transfer, ConsentToken, MemberPreference, MemberLimit, ConfirmToken, MemberCoordinator,
                               DigestDelivery, MeetingItem, *REASONS, *(model for model, _ in written()))))


class ForgetError(ValueError):
    """`code`: status (still a member) or balance (not settled)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def placeholder(number: int) -> str:
    return f"former-member-{number}@forgotten.invalid"


def former_name(number: int, language: str) -> str:
    return FORMER.get(language, FORMER["en"]).format(number=number)


def forget(member: Member, *, now: dt.datetime, group_language: str, force: bool = False,
           erase_descriptions: bool = True) -> dict:
    """Anonymise `member`; what was done, as counts. Refused while the member is still
    a member or the balance is not zero, unless `force`."""
    account = account_of(member)
    if member.status not in DEPARTED and not force:
        raise ForgetError("status", f"member {member.number} is {member.status}; set the status to left "
                                    "first (or use --force)")
    if account.balance_cents and not force:
        raise ForgetError("balance", f"member {member.number} has a balance of {account.balance_cents} "
                                     "cents; settle it first (or use --force)")
    addresses = [a for a in addresses_of(member) if not a.endswith(".invalid")]
    hidden, name = placeholder(member.number), former_name(member.number, group_language)
    done = {"member": member.number}
    if is_sqlite():
        # Erased text must not linger in free pages of the file: overwrite what is freed.
        database.execute_sql("PRAGMA secure_delete = ON")
    with write_transaction():
        scrub = _redactor(member, account, addresses, hidden, name, erase_descriptions)
        done.update(ledger.anonymise(account.id, addresses, hidden, now=now,
                                     erase_descriptions=erase_descriptions))
        if erase_descriptions:
            done["descriptions_naming_erased"] = ledger.erase_descriptions_naming(scrub.names)
        done["mail_received_erased"] = _erase_inbound(member, addresses, hidden, scrub)
        done["mail_sent_erased"] = _erase_outbound(addresses, hidden)
        done["mail_mentioning_redacted"] = _redact_mentions(scrub)
        # The member's own agenda items for the general meeting: their words, erased.
        done["agenda_items_erased"] = MeetingItem.update(body="").where(MeetingItem.member == member).execute()
        done["listings_erased"] = (Listing.update(title="", description="", rate_text="")
                                   .where(Listing.member == member).execute())
        Listing.update(status="withdrawn").where(Listing.member == member, Listing.status == "active").execute()
        done["reasons_erased"] = sum(model.update(reason="").where(model.member == member, model.reason != "").execute()
                                     for model in REASONS)
        Notice.delete().where(Notice.address.in_(addresses + [f"limit:{account.code}"])).execute()
        MemberPreference.delete().where(MemberPreference.member == member).execute()
        ConfirmToken.delete().where(ConfirmToken.member == member).execute()
        MemberLimit.delete().where(MemberLimit.member == member).execute()
        MemberCoordinator.delete().where((MemberCoordinator.member == member)
                                         | MemberCoordinator.address.in_(addresses)).execute()
        DigestDelivery.delete().where(DigestDelivery.member == member).execute()
        # After the rows found by the member's addresses are gone: the rest only names them.
        done["texts_redacted"] = _redact_written(scrub)
        own = Address.select(Address.id).where(Address.member == member)
        Bounce.delete().where(Bounce.address.in_(own)).execute()
        done["addresses_removed"] = Address.delete().where(Address.member == member).execute()
        # One unroutable address stays, so code that expects a primary address still
        # works; `failing` keeps every bulk mail away from it.
        Address.create(member=member, email=hidden, primary=True, failing=True)
        Member.update(name=name, status="left" if member.status not in DEPARTED else member.status,
                      digest="off").where(Member.id == member.id).execute()
        account.name = name
        account.save()
    done.update(vacuum())
    return done


def _redactor(member: Member, account, addresses: list[str], hidden: str, name: str,
              erase_descriptions: bool) -> Redactor:
    """What names the member, read before it is erased: addresses, the name and its own
    words, phone numbers the member wrote (in mail, listings) or that were written about
    them, and their texts that other mail may quote (descriptions, listings)."""
    involves = (Transfer.payer == account.id) | (Transfer.payee == account.id)
    texts = [] if not erase_descriptions else [
        row.description for row in Transfer.select(Transfer.description).where(involves)]
    phones: set[str] = set()
    for row in Listing.select().where(Listing.member == member):
        texts += [row.title, row.description]
        phones |= phones_in("\n".join((row.title, row.description, row.rate_text)))
    for raw, in inbound_of(member, addresses).select(InboundMessage.raw).tuples():
        phones |= phones_in_mail(bytes(raw or b""))
    for model in REASONS:
        for value, in model.select(model.reason).where(model.member == member).tuples():
            phones |= phones_in(value or "")
    elsewhere = {part.lower() for other, in Member.select(Member.name).where(Member.id != member.id).tuples()
                 for part in re.split(r"[\s-]+", other)}
    return Redactor(addresses=addresses, names=[] if member.name == name else [member.name], phones=phones,
                    texts=texts, hidden=hidden, name=name, elsewhere=elsewhere)


def _erase_inbound(member: Member, addresses: list[str], hidden: str, scrub: Redactor) -> int:
    """Mail from the member: the raw message is removed; the row stays (its Message-ID
    still recognises a resent copy), with the sender replaced."""
    ids = [row.id for row in inbound_of(member, addresses).select(InboundMessage.id)]
    for row in InboundMessage.select().where(InboundMessage.id.in_(ids)):
        row.raw = ERASED_MAIL
        row.sender = hidden if row.sender in addresses else row.sender
        row.mail_from = hidden if (row.mail_from or "").lower() in addresses else row.mail_from
        row.reason = scrub.text(row.reason)
        if row.state == "received":   # never processed: it never will be now
            row.state, row.reason = "ignored", "erased: the sender's data was forgotten"
        row.save()
    return len(ids)


def _erase_outbound(addresses: list[str], hidden: str) -> int:
    """Mail to the member: the body is removed, and what was still queued is not sent."""
    if not addresses:
        return 0
    to_member = OutboundMessage.recipient.in_(addresses)
    OutboundMessage.update(state="failed", last_error="recipient forgotten").where(
        to_member, OutboundMessage.state == "queued").execute()
    return OutboundMessage.update(raw=ERASED_MAIL, recipient=hidden).where(to_member).execute()


def _redact_mentions(scrub: Redactor) -> int:
    """Other people's stored mail that names the member: redacted in place where the
    text is plain; where an encoding hides it (base64, a line folded inside a name), the
    stored body is emptied, unless it still waits to be sent."""
    changed = 0
    for model in (InboundMessage, OutboundMessage):
        # Read everything first: no update while a cursor over the same table is open.
        found = []
        for row_id, raw, state in model.select(model.id, model.raw, model.state).tuples().iterator():
            raw = bytes(raw or b"")
            if not raw or not scrub.mentions(raw):
                continue
            cleaned = scrub(raw)
            if scrub.holds(cleaned) and state != "queued":
                cleaned = ERASED_MAIL
            found.append((row_id, cleaned))
        for row_id, cleaned in found:
            model.update(raw=cleaned).where(model.id == row_id).execute()
        changed += len(found)
    return changed


def _redact_written(scrub: Redactor) -> int:
    """The columns of WRITTEN: what names the member replaced; the rows changed."""
    changed = 0
    for model, fields in written():
        found = []
        for row_id, *values in model.select(model.id, *fields).tuples().iterator():
            redacted = [scrub.text(value) if value else value for value in values]
            if redacted != values:
                found.append((row_id, dict(zip(fields, redacted))))
        for row_id, values in found:
            model.update(values).where(model.id == row_id).execute()
        changed += len(found)
    return changed


def vacuum() -> dict:
    """No old copy of what was erased left in the files, once the transaction committed.

    SQLite, under the write lock (VACUUM needs no other writer, and runs outside any
    transaction): the spool's taken mail deleted, then the spool and the database each
    checkpointed (TRUNCATE), VACUUMed and checkpointed again. `files_emptied` is no when
    a reader kept a WAL from being emptied; running forget again finishes it.
    PostgreSQL: VACUUM of the tables forgetting writes."""
    if is_postgres():
        tables = [model._meta.table_name for model in TOUCHED]
        database.execute_sql("VACUUM " + ", ".join(f'"{table}"' for table in tables))
        return {"tables_vacuumed": " ".join(tables)}
    if not is_sqlite() or database.obj.database == ":memory:":
        return {}
    lock = getattr(database.obj, "write_lock", None)
    with lock.held() if lock is not None else nullcontext():
        deleted, spool_emptied = _clear_spool()
        _checkpoint()
        database.execute_sql("VACUUM")
        emptied = _checkpoint() and spool_emptied
    return {"spool_mails_deleted": deleted, "files_emptied": "yes" if emptied else "no"}


def _checkpoint() -> bool:
    """Copy the WAL into the database file and truncate it; False when a reader kept it."""
    busy, _, _ = database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0


def _clear_spool() -> tuple[int, bool]:
    """The SMTP edge's spool beside the database: the mail the worker took deleted, the
    file rebuilt. (How many were deleted, whether its WAL was emptied.)"""
    spool = Spool.existing(beside(database.obj.database))
    if spool is None:
        return 0, True
    try:
        mark = SpoolMark.get_or_none(SpoolMark.spool == spool.identity)
        return spool.clear(mark.last_id if mark else 0)
    finally:
        spool.close()
