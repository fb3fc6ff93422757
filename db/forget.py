"""Forgetting a departed member: their personal data erased, the ledger kept whole.

The member keeps a number, an account and every booked transfer (amounts, dates,
account codes), so balances still sum to zero and the hash chain still verifies; the
name becomes "Former member #N", the addresses one unroutable placeholder (RFC 2606
`.invalid`), and the texts they wrote or that were written to them are removed.
"""
from __future__ import annotations

import datetime as dt
import quopri
import re

from . import database, is_sqlite, ledger, write_transaction
from .export import addresses_of, inbound_of
from .members import account as account_of
from .models import (Address, Bounce, ConfirmToken, Contribution, InboundMessage, Listing, Member, MemberCoordinator,
                     MemberLimit, MemberPreference, Notice, OutboundMessage, Transfer)

DEPARTED = ("left", "expelled")
FORMER = {"nl": "Oud-lid #{number}", "en": "Former member #{number}", "fr": "Ancien membre #{number}"}
ERASED_MAIL = b""


class ForgetError(ValueError):
    """`code`: status (still a member) or balance (not settled)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def placeholder(number: int) -> str:
    return f"former-member-{number}@forgotten.invalid"


def former_name(number: int, language: str) -> str:
    return FORMER.get(language, FORMER["en"]).format(number=number)


def _pattern(texts: list[str]):
    words = [re.escape(t.encode()) for t in texts if t]
    return re.compile(b"|".join(words), re.I) if words else None


class _Redactor:
    """Replaces a member's addresses (any case), full name and erased transfer
    descriptions in stored mail that names the member at all.

    Used on other people's mail about the member (BETAAL … aan an@…, a receipt "van An
    de Vries", a relayed REAGEER). Descriptions are only replaced where the member is
    named, so the same words in unrelated mail stay."""

    def __init__(self, addresses: list[str], names: list[str], descriptions: list[str], hidden: str, name: str):
        self.who = _pattern(addresses + [n for n in names if len(n) >= 5])
        self.addresses = _pattern(addresses)
        self.what = _pattern([d for d in descriptions if len(d) >= 5])
        self.hidden, self.name = hidden.encode(), name.encode()

    def mentions(self, raw: bytes) -> bool:
        """Also through quoted-printable soft line breaks and =XX escapes, as we send."""
        return self.who is not None and bool(self.who.search(raw) or self.who.search(quopri.decodestring(raw)))

    def __call__(self, raw: bytes) -> bytes:
        if self.who is None or not self.who.search(raw):
            return raw
        if self.what is not None:   # first: a description may hold the name itself
            raw = self.what.sub(b"[...]", raw)
        if self.addresses is not None:
            raw = self.addresses.sub(self.hidden, raw)
        return self.who.sub(self.name, raw)


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
    old_name, hidden = member.name, placeholder(member.number)
    done = {"member": member.number}
    name = former_name(member.number, group_language)
    descriptions = [] if not erase_descriptions else [row.description for row in Transfer.select(
        Transfer.description).where((Transfer.payer == account.id) | (Transfer.payee == account.id))]
    if is_sqlite():
        # Erased text must not linger in free pages of the file: overwrite what is freed.
        database.execute_sql("PRAGMA secure_delete = ON")
    with write_transaction():
        done.update(ledger.anonymise(account.id, addresses, hidden, now=now,
                                     erase_descriptions=erase_descriptions))
        done["mail_received_erased"] = _erase_inbound(member, addresses, hidden)
        done["mail_sent_erased"] = _erase_outbound(addresses, hidden)
        scrub = _Redactor(addresses, [] if old_name == name else [old_name], descriptions, hidden, name)
        done["mail_mentioning_redacted"] = _redact_mentions(scrub)
        done["listings_erased"] = (Listing.update(title="", description="", rate_text="")
                                   .where(Listing.member == member).execute())
        Listing.update(status="withdrawn").where(Listing.member == member, Listing.status == "active").execute()
        Contribution.update(reason="").where(Contribution.member == member).execute()
        Contribution.update(entered_by=hidden).where(Contribution.entered_by.in_(addresses)).execute()
        Notice.delete().where(Notice.address.in_(addresses + [f"limit:{account.code}"])).execute()
        MemberPreference.delete().where(MemberPreference.member == member).execute()
        ConfirmToken.delete().where(ConfirmToken.member == member).execute()
        MemberLimit.delete().where(MemberLimit.member == member).execute()
        MemberCoordinator.delete().where((MemberCoordinator.member == member)
                                         | MemberCoordinator.address.in_(addresses)).execute()
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
    if is_sqlite():
        # The WAL still holds page images from before; copy it back and empty it.
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return done


def _erase_inbound(member: Member, addresses: list[str], hidden: str) -> int:
    """Mail from the member: the raw message is removed; the row stays (its Message-ID
    still recognises a resent copy), with the sender replaced."""
    ids = [row.id for row in inbound_of(member, addresses).select(InboundMessage.id)]
    scrub = _Redactor(addresses, [], [], hidden, hidden)
    for row in InboundMessage.select().where(InboundMessage.id.in_(ids)):
        row.raw = ERASED_MAIL
        row.sender = hidden if row.sender in addresses else row.sender
        row.mail_from = hidden if (row.mail_from or "").lower() in addresses else row.mail_from
        row.reason = scrub(row.reason.encode()).decode()
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


def _redact_mentions(scrub: _Redactor) -> int:
    """Other people's stored mail that names the member: redacted in place where the
    text is plain; where an encoding hides it (a line folded inside a name), the stored
    body is emptied, unless it still waits to be sent. Base64 bodies are not searched."""
    changed = 0
    for model in (InboundMessage, OutboundMessage):
        # Read everything first: no update while a cursor over the same table is open.
        found = []
        for row_id, raw, state in model.select(model.id, model.raw, model.state).tuples().iterator():
            raw = bytes(raw or b"")
            if not raw or not scrub.mentions(raw):
                continue
            cleaned = scrub(raw)
            if scrub.mentions(cleaned) and state != "queued":
                cleaned = ERASED_MAIL
            found.append((row_id, cleaned))
        for row_id, cleaned in found:
            model.update(raw=cleaned).where(model.id == row_id).execute()
        changed += len(found)
    return changed
