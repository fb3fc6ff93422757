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

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from peewee import IntegrityError, fn

from . import database, is_postgres, limits as limit_rules, tokens, write_transaction
from .prepared import Prepared, by_id
from .members import normalise_address
from .models import Account, ConsentToken, Member, Notice, Transfer

GENESIS = "0" * 64
# Proposals a payer may still answer; `open` ones were consented and wait for room.
# A `draft` (a coordinator's invoice for a member without email) waits for the
# coordinator's JA before its payer is asked: undecided, but never bookable.
UNDECIDED = ("pending", "open", "draft")
BOOKABLE = ("pending", "open")


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
    # Which limit an open transfer waits for: the payee's upper, or (payee_risk) the payer's lower.
    waiting_for: str = "upper"


@contextlib.contextmanager
def _write():
    """A ledger write. On PostgreSQL every ledger transaction first locks the association
    account, before any insert: an insert's foreign-key share locks on two accounts,
    upgraded later to FOR UPDATE by two bookings at once, deadlock otherwise."""
    with write_transaction():
        if is_postgres():
            _lock_association.first()
        yield


def _lock(*account_ids: int) -> None:
    if is_postgres():
        ids = sorted({_association.scalar(), *account_ids})
        query = _LOCK_ACCOUNTS.get(len(ids))
        if query is None:
            query = _LOCK_ACCOUNTS[len(ids)] = Prepared(
                lambda *marks: Account.select(Account.id).where(Account.id.in_(list(marks)))
                .order_by(Account.id).for_update(), len(ids))
        query.execute(*ids)


# The SQL of each query a booking runs is made once (prepared.py): building it took
# most of a booking's time, running it a tenth of a millisecond.
_lock_association = Prepared(lambda: Account.select(Account.id).where(Account.code == "association").for_update(), 0)
_association = Prepared(lambda: Account.select(Account.id).where(Account.code == "association"), 0)
_LOCK_ACCOUNTS: dict[int, Prepared] = {}


def _fresh(account_id: int) -> Account:
    return by_id(Account, account_id)


# -- proposals ---------------------------------------------------------------------

def propose(payer: Account, payee: Account, amount_cents: int, description: str, *, limits,
            now: dt.datetime, initiator: str = "payer", confirm_days: int = 14, source=None,
            listing=None, entered_by: str = "", payee_risk: bool = False, draft: bool = False,
            confirmed_by: str = "", sender_auth: str = "") -> Transfer:
    """A pending transfer, refused early when it could never be booked.

    With `payee_risk` (FACTUUR OPEN) a payer at the lower limit is not refused: once
    consented, the invoice waits open until the payer's balance leaves room. With
    `draft` it waits for the coordinator who wrote it first (see `release`).
    `sender_auth`: how the proposing mail was authenticated (see `record_sender_auth`)."""
    description = " ".join(description.split())[:500]
    if payer.id == payee.id:
        raise LedgerError("same-account")
    if amount_cents <= 0:
        raise LedgerError("amount")
    if not description:
        raise LedgerError("no-description")
    # The side that did not ask must be able to trade: a suspended member receives no new
    # proposals (an administrator's entry is exempt). A leaving member may be paid, which
    # is how others help them back to zero (article 5.5.2), but is sent no invoice.
    others = {"payer": [payee], "payee": [payer], "proxy": [payee]}.get(initiator, [])
    for account in others:
        if account.member_id is not None:
            member = Member.get_by_id(account.member_id)
            if member.status != "active" and not (member.status == "leaving" and account is payee):
                raise LedgerError("inactive", name=member.name, status=member.status)
    if not payee_risk:
        _check_lower(_fresh(payer.id), amount_cents, limits, now.date())
    with _write():
        return Transfer.create(payer=payer, payee=payee, amount_cents=amount_cents,
                               description=description, initiator=initiator, entered_by=entered_by,
                               source=source, listing=listing, created=now, payee_risk=payee_risk,
                               expires=now + dt.timedelta(days=confirm_days), confirmed_by=confirmed_by,
                               sender_auth=sender_auth[:200], state="draft" if draft else "pending")


def release(transfer: Transfer, *, now: dt.datetime, confirm_days: int, confirmed_by: str = "") -> Transfer:
    """A draft the coordinator confirmed becomes a pending invoice for its payer.

    The payer gets the full `confirm_days` from now. Every token of the draft is spent
    here, so the only tokens that can book the invoice are those issued to the payer
    afterwards: a coordinator's token never pays."""
    with _write():
        changed = Transfer.update(state="pending", expires=now + dt.timedelta(days=confirm_days),
                                  confirmed_by=confirmed_by).where(
            Transfer.id == transfer.id, Transfer.state == "draft").execute()
        if not changed:
            raise LedgerError("not-pending", state=Transfer.get_by_id(transfer.id).state)
        ConsentToken.update(used=now).where(ConsentToken.transfer == transfer.id,
                                            ConsentToken.used.is_null()).execute()
        return Transfer.get_by_id(transfer.id)


def record_sender_auth(transfer: Transfer, verdict: str) -> Transfer:
    """Keep how the consenting mail (a JA) was authenticated, before it books: a booked
    row is never edited."""
    Transfer.update(sender_auth=verdict[:200]).where(Transfer.id == transfer.id,
                                                     Transfer.state.in_(UNDECIDED)).execute()
    return Transfer.get_by_id(transfer.id)


def link_listing(transfer: Transfer, listing) -> Transfer:
    """Link an undecided transfer to the listing it trades; the first link stays."""
    Transfer.update(listing=listing).where(Transfer.id == transfer.id, Transfer.listing.is_null(),
                                           Transfer.state.in_(UNDECIDED)).execute()
    return Transfer.get_by_id(transfer.id)


def _check_lower(payer: Account, amount_cents: int, limits, today: dt.date) -> None:
    lower, _ = limit_rules.for_account(payer, limits, today)
    if lower is not None and payer.balance_cents - amount_cents < lower:
        raise LedgerError("over-lower", balance=payer.balance_cents, lower=lower,
                          room=max(0, payer.balance_cents - lower))


def _over_upper(payee: Account, amount_cents: int, limits, today: dt.date) -> bool:
    _, upper = limit_rules.for_account(payee, limits, today)
    return upper is not None and payee.balance_cents + amount_cents > upper


# -- consent tokens ----------------------------------------------------------------

def issue_token(transfer: Transfer, address: str, *, now: dt.datetime, days: int) -> str:
    """A fresh single-use token for `address` (db/tokens.py); only its hash is stored."""
    token = tokens.new()
    ConsentToken.create(digest=tokens.digest(token), transfer=transfer, address=normalise_address(address),
                        created=now, expires=now + dt.timedelta(days=days))
    return token


def find_token(token: str) -> ConsentToken | None:
    found = _token_by_digest.rows(ConsentToken, tokens.digest(token))
    return found[0] if found else None


_token_by_digest = Prepared(lambda digest: ConsentToken.select().where(ConsentToken.digest == digest), 1)


def token_address(transfer: Transfer) -> str:
    """The address the transfer's latest token went to: the payer's own mailbox (a
    released draft's first token went to the coordinator who wrote it)."""
    return (ConsentToken.select().where(ConsentToken.transfer == transfer)
            .order_by(ConsentToken.id.desc()).first().address)


def use_token(row: ConsentToken, now: dt.datetime) -> bool:
    """Mark a token used; False when it was used already (a replay or a race)."""
    return tokens.spend(ConsentToken, row, now)


# -- booking -----------------------------------------------------------------------

def description_digest(description: str) -> str:
    return hashlib.sha256(description.encode()).hexdigest()


def chain_hash(number: int, booked: dt.datetime, payer_code: str, payee_code: str, amount_cents: int,
               description: str, description_hash: str | None, prev_hash: str) -> str:
    """sha256 over a booked transfer's content and the previous hash.

    Rows booked with a description hash chain the hash, not the text (marked "v2"), so
    the text can be erased when a member is forgotten; older rows chain the text."""
    if description_hash is None:
        content = [number, booked.isoformat(timespec="microseconds"), payer_code, payee_code,
                   amount_cents, description, prev_hash]
    else:
        content = ["v2", number, booked.isoformat(timespec="microseconds"), payer_code, payee_code,
                   amount_cents, description_hash, prev_hash]
    canonical = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def content_hash(transfer: Transfer, payer_code: str, payee_code: str) -> str:
    return chain_hash(transfer.number, transfer.booked, payer_code, payee_code, transfer.amount_cents,
                      transfer.description, transfer.description_hash, transfer.prev_hash)


def _post(transfer: Transfer, now: dt.datetime) -> None:
    head = _head.first()
    transfer.number = head[0] + 1 if head else 1
    transfer.prev_hash = head[1] if head else GENESIS
    transfer.booked = now
    transfer.decided = transfer.decided or now
    transfer.state = "booked"
    transfer.description_hash = description_digest(transfer.description)
    codes = dict(database.execute_sql(*_codes.sql(transfer.payer_id, transfer.payee_id)).fetchall())
    transfer.hash = content_hash(transfer, codes[transfer.payer_id], codes[transfer.payee_id])
    # Only the columns booking sets are written: the rest of the row stays as stored.
    _book_row.execute(transfer.number, transfer.prev_hash, Transfer.booked.db_value(transfer.booked),
                      Transfer.decided.db_value(transfer.decided), transfer.description_hash, transfer.hash,
                      transfer.id)
    transfer._dirty.clear()
    _move.execute(-transfer.amount_cents, transfer.payer_id)
    _move.execute(transfer.amount_cents, transfer.payee_id)


_head = Prepared(lambda: Transfer.select(Transfer.number, Transfer.hash).where(Transfer.number.is_null(False))
                 .order_by(Transfer.number.desc()).limit(1), 0)
_codes = Prepared(lambda payer, payee: Account.select(Account.id, Account.code)
                  .where(Account.id.in_([payer, payee])), 2)
_book_row = Prepared(lambda number, prev_hash, booked, decided, description_hash, chained, row_id: Transfer.update(
    number=number, prev_hash=prev_hash, booked=booked, decided=decided, state="booked",
    description_hash=description_hash, hash=chained).where(Transfer.id == row_id), 7)
_move = Prepared(lambda cents, account: Account.update(balance_cents=Account.balance_cents + cents)
                 .where(Account.id == account), 2)


def book(transfer: Transfer, *, limits, now: dt.datetime, enforce_limits: bool = True) -> Booking:
    """Book a consented transfer, or keep it open while the payee is at the upper limit
    (or, for an invoice at the payee's risk, while the payer is at the lower limit).

    Raises LedgerError("over-lower") when the payer may not spend this much."""
    with _write():
        _lock(transfer.payer_id, transfer.payee_id)
        transfer = by_id(Transfer, transfer.id)
        if transfer.state not in BOOKABLE:
            raise LedgerError("not-pending", state=transfer.state)
        today = now.date()
        payer, payee = _fresh(transfer.payer_id), _fresh(transfer.payee_id)
        if transfer.initiator in MEMBER_INITIATED:
            _check_trading(payer, payee)
        if enforce_limits:
            try:
                _check_lower(payer, transfer.amount_cents, limits, today)
            except LedgerError:
                if not transfer.payee_risk:
                    raise
                transfer.state, transfer.decided = "open", now
                transfer.save()
                return Booking(transfer, "open", waiting_for="lower")
            if _over_upper(payee, transfer.amount_cents, limits, today):
                transfer.state, transfer.decided = "open", now
                transfer.save()
                return Booking(transfer, "open")
        _post(transfer, now)
        return Booking(transfer, "booked", _settle(transfer.payer_id, transfer.payee_id, limits, now))


# Transfers a member asked for: booked only while both members may trade, so a member
# suspended or expelled after a proposal is neither paid nor paying. Levies, settlements
# and administrators' entries are not trades and are exempt.
MEMBER_INITIATED = ("payer", "payee", "proxy", "claim")
TRADING = ("active", "leaving")


def _check_trading(*accounts: Account) -> None:
    for account in accounts:
        if account.member_id is not None:
            member = by_id(Member, account.member_id)
            if member.status not in TRADING:
                raise LedgerError("inactive", name=member.name, status=member.status)


def _payer_has_room(transfer: Transfer, limits, today: dt.date) -> bool:
    try:
        _check_lower(_fresh(transfer.payer_id), transfer.amount_cents, limits, today)
    except LedgerError:
        return False
    return True


def _fits(transfer: Transfer, limits, today: dt.date) -> bool:
    return (_payer_has_room(transfer, limits, today)
            and not _over_upper(_fresh(transfer.payee_id), transfer.amount_cents, limits, today))


def _settle(payer_id: int, payee_id: int, limits, now: dt.datetime) -> list[Transfer]:
    """Book open invoices, oldest first, that the last booking made room for.

    The payer's balance went down: invoices waiting under that account's upper limit
    may fit. The payee's went up: invoices at the payee's risk that this account owes
    may fit. Each booking found moves two balances again, so the search goes on."""
    return _settle_queue([("down", payer_id), ("up", payee_id)], limits, now)


def _settle_queue(queue: list[tuple[str, int]], limits, now: dt.datetime) -> list[Transfer]:
    booked, today = [], now.date()
    while queue:
        moved, account_id = queue.pop(0)
        waiting = (_open_to if moved == "down" else _open_from).rows(Transfer, account_id)
        for transfer in waiting:
            _lock(transfer.payer_id, transfer.payee_id)
            if not _fits(transfer, limits, today):
                # Oldest first: a younger, smaller invoice does not jump the queue at the
                # limit that just moved; one blocked by the other party's limit waits on.
                blocked_here = (_over_upper(_fresh(account_id), transfer.amount_cents, limits, today)
                                if moved == "down" else not _payer_has_room(transfer, limits, today))
                if blocked_here:
                    break
                continue
            if _behind(transfer, limits, today):
                continue
            _post(transfer, now)
            booked.append(transfer)
            queue += [("down", transfer.payer_id), ("up", transfer.payee_id)]
    return booked


def _waiting(side):
    return Prepared(lambda account: Transfer.select().where(side == account, Transfer.state == "open")
                    .order_by(Transfer.decided, Transfer.id), 1)


_open_to, _open_from = _waiting(Transfer.payee), _waiting(Transfer.payer)


def _behind(transfer: Transfer, limits, today: dt.date) -> bool:
    """An older open invoice that does not fit waits at this invoice's payee's upper
    limit or at its payer's lower limit: oldest first at each limit, whichever side's
    balance moved. (A new payment that fits is booked at once: only earnings that would
    cross the limit wait in the queue.)"""
    older = Transfer.select().where(
        Transfer.state == "open", (Transfer.payee == transfer.payee_id) | (Transfer.payer == transfer.payer_id),
        (Transfer.decided < transfer.decided) | ((Transfer.decided == transfer.decided) & (Transfer.id < transfer.id)))
    for other in older:
        if other.payee_id == transfer.payee_id and _over_upper(_fresh(other.payee_id), other.amount_cents,
                                                               limits, today):
            return True
        if other.payer_id == transfer.payer_id and not _payer_has_room(other, limits, today):
            return True
    return False


def settle_waiting(*, limits, now: dt.datetime) -> list[Transfer]:
    """A settlement pass over every open invoice, for room that came without a booking:
    an older invoice ahead in the queue expired, a limit was raised, a newcomer period
    ended. Afterwards an open invoice that fits stays open only behind an older one
    that does not fit, at its payee's upper limit or at its payer's lower limit."""
    with _write():
        waiting = Transfer.select(Transfer.payer, Transfer.payee).where(Transfer.state == "open").distinct()
        queue = sorted({side for payer_id, payee_id in waiting.tuples()
                        for side in (("down", payee_id), ("up", payer_id))})
        return _settle_queue(queue, limits, now)


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


def open_balance(account: Account, opening: Account, cents: int, description: str, *,
                 now: dt.datetime, entered_by: str, limits) -> Booking:
    """A balance carried over from the group's former system (`lets import balances`): one
    booked transfer between the member's account and the opening account, from the
    opening account for a positive balance, to it for a negative one. Limits are not
    asked: the balance was reached elsewhere. A member left beyond a limit pays (or is
    paid) no further than any member there, until trades bring them back within it."""
    if cents == 0:
        raise LedgerError("amount")
    payer, payee = (opening, account) if cents > 0 else (account, opening)
    description = " ".join(description.split())[:500]
    with _write():
        transfer = Transfer.create(payer=payer, payee=payee, amount_cents=abs(cents), description=description,
                                   initiator="opening", entered_by=entered_by, created=now)
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


def expire_drafts(now: dt.datetime) -> list[Transfer]:
    """Drafts the coordinator did not confirm in time, now `expired`; the payer never knew."""
    with _write():
        due = list(Transfer.select().where(Transfer.state == "draft", Transfer.expires <= now))
        return [decline(transfer, "expired", now) for transfer in due]


def expire_open(now: dt.datetime, days: int) -> list[Transfer]:
    """Open invoices that waited `days` since they were consented, now `expired`.

    `decided` is the moment a transfer became open; 0 days keeps them open for ever."""
    if days <= 0:
        return []
    with _write():
        due = list(Transfer.select().where(Transfer.state == "open",
                                           Transfer.decided <= now - dt.timedelta(days=days))
                   .order_by(Transfer.decided, Transfer.id))
        return [decline(transfer, "expired", now) for transfer in due]


# -- limits advice -----------------------------------------------------------------

def near_limit(account: Account, limits, today: dt.date, balance: int | None = None) -> dict | None:
    """{"side": lower|upper, "limit": cents, "balance": cents} while within the margin.
    `balance` is the account's current balance when the caller has just read it."""
    lower, upper = limit_rules.for_account(account, limits, today)
    if lower is None or upper is None:
        return None
    balance = _fresh(account.id).balance_cents if balance is None else balance
    margin = limits.warn_margin * 100
    side = "lower" if balance - lower <= margin else "upper" if upper - balance <= margin else None
    return None if side is None else {"side": side, "limit": lower if side == "lower" else upper,
                                      "balance": balance}


_NOT_GIVEN = object()


def limit_warning(account: Account, limits, today: dt.date, now: dt.datetime, near=_NOT_GIVEN) -> dict | None:
    """{"side": lower|upper, "limit": cents} the first time a balance comes near a limit.

    The warning is given once per approach: leaving the margin makes it due again.
    `near` is `near_limit`'s answer when the caller has it already."""
    if near is _NOT_GIVEN:
        near = near_limit(account, limits, today)
    key = f"limit:{account.code}"
    if near is None:
        _forget_notices.execute(key)
        return None
    kind = f"near-{near['side']}"
    if _notice_given.first(key, kind) is not None:
        return None
    try:
        with database.atomic():
            Notice.create(address=key, kind=kind, sent_at=now)
    except IntegrityError:   # another worker gave it at the same moment
        return None
    return {"side": near["side"], "limit": near["limit"]}


# Every receipt asks both; SQL made once (prepared.py).
_forget_notices = Prepared(lambda key: Notice.delete().where(Notice.address == key), 1)
_notice_given = Prepared(lambda key, kind: Notice.select(Notice.id).where(Notice.address == key,
                                                                          Notice.kind == kind), 2)


# -- reading and checking ----------------------------------------------------------

def head() -> Transfer | None:
    return Transfer.select().where(Transfer.number.is_null(False)).order_by(Transfer.number.desc()).first()


def head_hash() -> str:
    row = head()
    return row.hash if row else GENESIS


def recent(account: Account, limit: int = 5) -> list[Transfer]:
    """The account's last `limit` booked transfers, newest first.

    One query per side, each walking the (payer|payee, number) index backwards: an OR
    of both sides would make the database scan the journal."""
    found = {}
    for side in (Transfer.payer, Transfer.payee):
        for row in (Transfer.select().where(side == account, Transfer.state == "booked")
                    .order_by(Transfer.number.desc()).limit(limit)):
            found[row.id] = row
    return sorted(found.values(), key=lambda row: row.number, reverse=True)[:limit]


def statement(account: Account, limit: int = 50) -> list[dict]:
    """The account's last `limit` booked transfers, newest first, signed from its side,
    with the counterparty's name as the group shows it."""
    rows = recent(account, limit)
    others = {row.payer_id if row.payee_id == account.id else row.payee_id for row in rows}
    names = dict(Account.select(Account.id, Account.name).where(Account.id.in_(list(others))).tuples())
    return [{"number": row.number, "booked": row.booked, "description": row.description,
             "amount_cents": row.amount_cents if row.payee_id == account.id else -row.amount_cents,
             "counterparty": names[row.payer_id if row.payee_id == account.id else row.payee_id]}
            for row in rows]


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


PROGRESS_ROWS = 1000


def verify(on_rows=lambda count: None) -> tuple[int, str | None]:
    """(booked transfers checked, the first broken row described, or None); `on_rows(n)`
    is told of every PROGRESS_ROWS rows checked, for a progress bar.

    Streams the journal in number order as plain tuples, so a chain of millions of
    transfers is checked in constant memory. An erased description (empty, on a row
    whose chain holds the description's hash) is not a break; any other change is."""
    codes = dict(Account.select(Account.id, Account.code).tuples())
    previous, expected, checked = GENESIS, 1, 0
    numbered = (Transfer.select(Transfer.id, Transfer.state).where(Transfer.number.is_null(True),
                                                                   Transfer.state == "booked").first())
    if numbered is not None:
        return 0, f"transfer #None (id {numbered.id}): state 'booked' with journal number None"
    rows = (Transfer.select(Transfer.id, Transfer.number, Transfer.state, Transfer.booked, Transfer.payer,
                            Transfer.payee, Transfer.amount_cents, Transfer.description,
                            Transfer.description_hash, Transfer.prev_hash, Transfer.hash)
            .where(Transfer.number.is_null(False)).order_by(Transfer.number).tuples().iterator())
    for (row_id, number, state, booked, payer, payee, amount, description, description_hash,
         prev_hash, stored) in rows:
        label = f"transfer #{number} (id {row_id})"
        if state != "booked":
            return checked, f"{label}: state {state!r} with journal number {number}"
        if number != expected:
            return checked, f"{label}: expected journal number {expected}"
        if prev_hash != previous:
            return checked, f"{label}: previous hash does not match #{expected - 1}"
        if description_hash is not None and description and description_digest(description) != description_hash:
            return checked, f"{label}: description does not match its hash"
        if stored != chain_hash(number, booked, codes.get(payer, "?"), codes.get(payee, "?"), amount,
                                description, description_hash, prev_hash):
            return checked, f"{label}: content does not match its hash"
        previous, expected, checked = stored, expected + 1, checked + 1
        if checked % PROGRESS_ROWS == 0:
            on_rows(PROGRESS_ROWS)    # not per row: a call per row would slow a million-row check
    on_rows(checked % PROGRESS_ROWS)
    return checked, None


def anonymise(account_id: int, addresses: list[str], placeholder: str, *, now: dt.datetime,
              erase_descriptions: bool = True) -> dict:
    """A forgotten member's side of the ledger: undecided proposals cancelled, their
    addresses replaced in `entered_by` and consent tokens, and (unless kept) the
    descriptions of every transfer to or from the account erased.

    Booked rows whose chain holds the description's hash lose the text and keep the
    hash, so `verify` still passes; rows booked before that format chain the text itself
    and keep it (counted as `kept`). Amounts, dates and account codes stay: the ledger
    must still balance and verify."""
    involves = (Transfer.payer == account_id) | (Transfer.payee == account_id)
    with _write():
        cancelled = Transfer.update(state="cancelled", decided=now).where(
            involves, Transfer.state.in_(UNDECIDED)).execute()
        if addresses:
            Transfer.update(entered_by=placeholder).where(Transfer.entered_by.in_(addresses)).execute()
            ConsentToken.update(address=placeholder).where(ConsentToken.address.in_(addresses)).execute()
            # A coordinator's entries and confirmations read "Name <address>".
            for column in (Transfer.entered_by, Transfer.confirmed_by):
                for address in addresses:
                    ids = [row.id for row in Transfer.select(Transfer.id, column).where(
                        column.endswith(f"<{address}>")) if getattr(row, column.name).endswith(f"<{address}>")]
                    if ids:
                        Transfer.update({column: placeholder}).where(Transfer.id.in_(ids)).execute()
        erased = kept = 0
        if erase_descriptions:
            kept = Transfer.select().where(involves, Transfer.number.is_null(False),
                                           Transfer.description_hash.is_null(True)).count()
            erased = Transfer.update(description="").where(
                involves, Transfer.description != "",
                Transfer.number.is_null(True) | Transfer.description_hash.is_null(False)).execute()
    return {"cancelled": cancelled, "descriptions_erased": erased, "descriptions_kept": kept}


def erase_descriptions_naming(names) -> int:
    """Erase the descriptions that `names(text)` finds a forgotten member in, on transfers
    between other members ("taart voor An"); as in `anonymise`, rows booked before the
    chain held the description's hash keep theirs. The number erased."""
    erasable = (Transfer.description != "") & (Transfer.number.is_null(True) | Transfer.description_hash.is_null(False))
    with _write():
        ids = [row_id for row_id, text in Transfer.select(Transfer.id, Transfer.description).where(erasable).tuples()
               if names(text)]
        return Transfer.update(description="").where(Transfer.id.in_(ids)).execute() if ids else 0
