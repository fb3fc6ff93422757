"""The ledger: the only code that writes transfers, moves balances and checks limits.

Every booking happens in one transaction that also updates both balances, so the
sum of all balances is zero at every commit. On SQLite a top-level booking takes the
write lock first (BEGIN IMMEDIATE): two bookings can then never read the same balance
or the same journal head. On PostgreSQL the accounts involved, and the association
account as the journal's lock, are locked with SELECT … FOR UPDATE.

Booked transfers form a hash chain: each carries sha256 over its own content and the
previous booked transfer's hash, so a row changed behind the application's back is
found by `verify()`, and the head hash published in SALDO replies pins the history.
"""
from __future__ import annotations

import contextlib

import base64
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field

from peewee import fn

from . import database, is_postgres, limits as limit_rules, write_transaction
from .prepared import by_id
from .members import normalise_address
from .models import Account, ConsentToken, Member, Notice, Transfer

GENESIS = "0" * 64
# Proposals a payer may still answer; `open` ones were consented and wait for room.
UNDECIDED = ("pending", "open")


class LedgerError(ValueError):
    """`code` names the refusal (same-account, inactive, over-lower, not-pending …)."""

    def __init__(self, code: str, **context):
        super().__init__(f"{code}: {context}" if context else code)
        self.code = code
        self.context = context


@dataclass
class Booking:
    transfer: Transfer
    state: str                                   # booked | open
    settled: list[Transfer] = field(default_factory=list)   # open invoices booked as a result


@contextlib.contextmanager
def _write():
    """A ledger write. On PostgreSQL every ledger transaction first locks the association
    account, before any insert: an insert's foreign-key share locks on two accounts,
    upgraded later to FOR UPDATE by two bookings at once, deadlock otherwise."""
    with write_transaction():
        if is_postgres():
            list(Account.select(Account.id).where(Account.code == "association").for_update())
        yield


def _lock(*account_ids: int) -> None:
    if is_postgres():
        association = Account.get(Account.code == "association").id
        ids = sorted({association, *account_ids})
        list(Account.select(Account.id).where(Account.id.in_(ids)).order_by(Account.id).for_update())


def _fresh(account_id: int) -> Account:
    return by_id(Account, account_id)


# -- proposals ---------------------------------------------------------------------

def propose(payer: Account, payee: Account, amount_cents: int, description: str, *, limits,
            now: dt.datetime, initiator: str = "payer", confirm_days: int = 14, source=None,
            listing=None, entered_by: str = "") -> Transfer:
    """A pending transfer, refused early when it could never be booked."""
    description = " ".join(description.split())[:500]
    if payer.id == payee.id:
        raise LedgerError("same-account")
    if amount_cents <= 0:
        raise LedgerError("amount")
    if not description:
        raise LedgerError("no-description")
    # The side that did not ask must be able to trade: a suspended or leaving member
    # receives no new proposals (an administrator's entry is exempt).
    others = {"payer": [payee], "payee": [payer], "proxy": [payee]}.get(initiator, [])
    for account in others:
        if account.member_id is not None:
            member = Member.get_by_id(account.member_id)
            if member.status != "active":
                raise LedgerError("inactive", name=member.name, status=member.status)
    _check_lower(_fresh(payer.id), amount_cents, limits, now.date())
    with _write():
        return Transfer.create(payer=payer, payee=payee, amount_cents=amount_cents,
                               description=description, initiator=initiator, entered_by=entered_by,
                               source=source, listing=listing, created=now,
                               expires=now + dt.timedelta(days=confirm_days))


def _check_lower(payer: Account, amount_cents: int, limits, today: dt.date) -> None:
    lower, _ = limit_rules.for_account(payer, limits, today)
    if lower is not None and payer.balance_cents - amount_cents < lower:
        raise LedgerError("over-lower", balance=payer.balance_cents, lower=lower,
                          room=max(0, payer.balance_cents - lower))


def _over_upper(payee: Account, amount_cents: int, limits, today: dt.date) -> bool:
    _, upper = limit_rules.for_account(payee, limits, today)
    return upper is not None and payee.balance_cents + amount_cents > upper


# -- consent tokens ----------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(transfer: Transfer, address: str, *, now: dt.datetime, days: int) -> str:
    """A fresh single-use token for `address`; only its hash is stored.

    Lowercase base32 (a-z, 2-7) because mail systems may case-fold local parts;
    120 bits from the operating system's cryptographic source."""
    token = base64.b32encode(secrets.token_bytes(15)).decode().lower()
    ConsentToken.create(digest=_digest(token), transfer=transfer, address=normalise_address(address),
                        created=now, expires=now + dt.timedelta(days=days))
    return token


def find_token(token: str) -> ConsentToken | None:
    return ConsentToken.get_or_none(ConsentToken.digest == _digest(token.strip().lower()))


def token_address(transfer: Transfer) -> str:
    """The address the transfer's first token went to: the payer's own mailbox."""
    return ConsentToken.select().where(ConsentToken.transfer == transfer).order_by(ConsentToken.id).first().address


def use_token(row: ConsentToken, now: dt.datetime) -> bool:
    """Mark a token used; False when it was used already (a replay or a race)."""
    return ConsentToken.update(used=now).where(
        ConsentToken.id == row.id, ConsentToken.used.is_null()).execute() == 1


# -- booking -----------------------------------------------------------------------

def content_hash(transfer: Transfer, payer_code: str, payee_code: str) -> str:
    content = [transfer.number, transfer.booked.isoformat(timespec="microseconds"), payer_code,
               payee_code, transfer.amount_cents, transfer.description, transfer.prev_hash]
    canonical = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _post(transfer: Transfer, now: dt.datetime) -> None:
    head = (Transfer.select(Transfer.number, Transfer.hash).where(Transfer.number.is_null(False))
            .order_by(Transfer.number.desc()).first())
    transfer.number = head.number + 1 if head else 1
    transfer.prev_hash = head.hash if head else GENESIS
    transfer.booked = now
    transfer.decided = transfer.decided or now
    transfer.state = "booked"
    codes = {a.id: a.code for a in Account.select().where(Account.id.in_([transfer.payer_id, transfer.payee_id]))}
    transfer.hash = content_hash(transfer, codes[transfer.payer_id], codes[transfer.payee_id])
    transfer.save()
    Account.update(balance_cents=Account.balance_cents - transfer.amount_cents).where(
        Account.id == transfer.payer_id).execute()
    Account.update(balance_cents=Account.balance_cents + transfer.amount_cents).where(
        Account.id == transfer.payee_id).execute()


def book(transfer: Transfer, *, limits, now: dt.datetime, enforce_limits: bool = True) -> Booking:
    """Book a consented transfer, or keep it open while the payee is at the upper limit.

    Raises LedgerError("over-lower") when the payer may not spend this much."""
    with _write():
        _lock(transfer.payer_id, transfer.payee_id)
        transfer = Transfer.get_by_id(transfer.id)
        if transfer.state not in UNDECIDED:
            raise LedgerError("not-pending", state=transfer.state)
        today = now.date()
        payer, payee = _fresh(transfer.payer_id), _fresh(transfer.payee_id)
        if enforce_limits:
            _check_lower(payer, transfer.amount_cents, limits, today)
            if _over_upper(payee, transfer.amount_cents, limits, today):
                transfer.state, transfer.decided = "open", now
                transfer.save()
                return Booking(transfer, "open")
        _post(transfer, now)
        return Booking(transfer, "booked", _settle(transfer.payer_id, limits, now))


def _settle(account_id: int, limits, now: dt.datetime) -> list[Transfer]:
    """Book open invoices, oldest first, for accounts whose balance just went down."""
    booked, queue, today = [], [account_id], now.date()
    while queue:
        payee_id = queue.pop(0)
        waiting = (Transfer.select().where(Transfer.payee == payee_id, Transfer.state == "open")
                   .order_by(Transfer.decided, Transfer.id))
        for transfer in waiting:
            _lock(transfer.payer_id, payee_id)
            if _over_upper(_fresh(payee_id), transfer.amount_cents, limits, today):
                break   # oldest first: a younger, smaller invoice does not jump the queue
            try:
                _check_lower(_fresh(transfer.payer_id), transfer.amount_cents, limits, today)
            except LedgerError:
                continue
            _post(transfer, now)
            booked.append(transfer)
            queue.append(transfer.payer_id)
    return booked


def decline(transfer: Transfer, state: str, now: dt.datetime) -> Transfer:
    """Close an undecided transfer without booking: rejected, cancelled or expired."""
    assert state in ("rejected", "cancelled", "expired")
    with _write():
        changed = Transfer.update(state=state, decided=now).where(
            Transfer.id == transfer.id, Transfer.state.in_(UNDECIDED)).execute()
        if not changed:
            raise LedgerError("not-pending", state=Transfer.get_by_id(transfer.id).state)
        return Transfer.get_by_id(transfer.id)


def transfer_now(payer: Account, payee: Account, amount_cents: int, description: str, *, limits,
                 now: dt.datetime, entered_by: str, initiator: str = "admin") -> Booking:
    """Propose and book at once: an administrator's entry of a trade made on paper."""
    with _write():
        transfer = propose(payer, payee, amount_cents, description, limits=limits, now=now,
                           initiator=initiator, entered_by=entered_by)
        return book(transfer, limits=limits, now=now)


def levy(payer: Account, payee: Account, amount_cents: int, description: str, *,
         now: dt.datetime, entered_by: str, limits) -> Booking:
    """Book an obligation (a contribution, a fine) at once, whatever the payer's lower limit.

    A levy is not a trade: the payer's consent and room are not asked. It is booked and
    chained like every other transfer; only the lower-limit check is skipped."""
    description = " ".join(description.split())[:500]
    if payer.id == payee.id:
        raise LedgerError("same-account")
    if amount_cents <= 0:
        raise LedgerError("amount")
    if not description:
        raise LedgerError("no-description")
    with _write():
        transfer = Transfer.create(payer=payer, payee=payee, amount_cents=amount_cents,
                                   description=description, initiator="levy", entered_by=entered_by,
                                   created=now)
        return book(transfer, limits=limits, now=now, enforce_limits=False)


def reverse(number: int, *, now: dt.datetime, entered_by: str, limits) -> Booking:
    """A correction: a new booked transfer back, the original stays as it is."""
    with _write():
        original = Transfer.get_or_none(Transfer.number == number)
        if original is None:
            raise LedgerError("no-such-transfer", number=number)
        correction = Transfer.create(payer=original.payee_id, payee=original.payer_id,
                                     amount_cents=original.amount_cents,
                                     description=f"reversal of #{number}: {original.description}"[:500],
                                     initiator="admin", entered_by=entered_by, reverses=original,
                                     created=now)
        return book(correction, limits=limits, now=now, enforce_limits=False)


# -- reminders and expiry ----------------------------------------------------------

def due_reminders(now: dt.datetime, reminder_days: int) -> list[Transfer]:
    """Pending transfers to remind about, marked reminded: each is reminded once."""
    with _write():
        due = list(Transfer.select().where(
            Transfer.state == "pending", Transfer.reminded.is_null(),
            Transfer.created <= now - dt.timedelta(days=reminder_days), Transfer.expires > now))
        for transfer in due:
            Transfer.update(reminded=now).where(Transfer.id == transfer.id).execute()
        return due


def expire_pending(now: dt.datetime) -> list[Transfer]:
    """Pending transfers past their expiry, now `expired`; open invoices wait on."""
    with _write():
        due = list(Transfer.select().where(Transfer.state == "pending", Transfer.expires <= now))
        return [decline(transfer, "expired", now) for transfer in due]


# -- limits advice -----------------------------------------------------------------

def limit_warning(account: Account, limits, today: dt.date, now: dt.datetime) -> dict | None:
    """{"side": lower|upper, "limit": cents} the first time a balance comes near a limit.

    The warning is given once per approach: leaving the margin makes it due again."""
    lower, upper = limit_rules.for_account(account, limits, today)
    if lower is None:
        return None
    balance, margin = _fresh(account.id).balance_cents, limits.warn_margin * 100
    side = "lower" if balance - lower <= margin else "upper" if upper - balance <= margin else None
    key = f"limit:{account.code}"
    if side is None:
        Notice.delete().where(Notice.address == key).execute()
        return None
    _, created = Notice.get_or_create(address=key, kind=f"near-{side}", defaults={"sent_at": now})
    return {"side": side, "limit": lower if side == "lower" else upper} if created else None


# -- reading and checking ----------------------------------------------------------

def head() -> Transfer | None:
    return Transfer.select().where(Transfer.number.is_null(False)).order_by(Transfer.number.desc()).first()


def head_hash() -> str:
    row = head()
    return row.hash if row else GENESIS


def recent(account: Account, limit: int = 5) -> list[Transfer]:
    return list(Transfer.select().where(
        Transfer.state == "booked", (Transfer.payer == account) | (Transfer.payee == account))
        .order_by(Transfer.number.desc()).limit(limit))


def check() -> list[str]:
    """Problems with the balances: each must equal its booked transfers, and all sum to zero."""
    sums: dict[int, int] = {}
    booked = Transfer.state == "booked"
    for account_id, total in (Transfer.select(Transfer.payer, fn.SUM(Transfer.amount_cents))
                              .where(booked).group_by(Transfer.payer).tuples()):
        sums[account_id] = sums.get(account_id, 0) - int(total)
    for account_id, total in (Transfer.select(Transfer.payee, fn.SUM(Transfer.amount_cents))
                              .where(booked).group_by(Transfer.payee).tuples()):
        sums[account_id] = sums.get(account_id, 0) + int(total)
    problems = [f"account {account.code}: balance {account.balance_cents} but its booked transfers "
                f"sum to {sums.get(account.id, 0)}"
                for account in Account.select().order_by(Account.id)
                if account.balance_cents != sums.get(account.id, 0)]
    total = int(Account.select(fn.SUM(Account.balance_cents)).scalar() or 0)
    if total:
        problems.append(f"the balances sum to {total}, not 0")
    return problems


def verify() -> tuple[int, str | None]:
    """(booked transfers checked, the first broken row described, or None)."""
    codes = dict(Account.select(Account.id, Account.code).tuples())
    previous, expected, checked = GENESIS, 1, 0
    rows = (Transfer.select().where(Transfer.number.is_null(False) | (Transfer.state == "booked"))
            .order_by(Transfer.number))
    for row in rows:
        label = f"transfer #{row.number} (id {row.id})"
        if row.number is None or row.state != "booked":
            return checked, f"{label}: state {row.state!r} with journal number {row.number}"
        if row.number != expected:
            return checked, f"{label}: expected journal number {expected}"
        if row.prev_hash != previous:
            return checked, f"{label}: previous hash does not match #{expected - 1}"
        if row.hash != content_hash(row, codes.get(row.payer_id, "?"), codes.get(row.payee_id, "?")):
            return checked, f"{label}: content does not match its hash"
        previous, expected, checked = row.hash, expected + 1, checked + 1
    return checked, None
