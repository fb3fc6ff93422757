"""NEE / NO / NON in reply to a payment's receipt: the payee refuses the trade (article 17.1).

A payment booked at the payer's word reaches the payee as a receipt that carries a token
of its own (`offer`): the payee who never agreed to the trade answers NEE within
`[trades] refuse_days`, from the address the receipt went to, and the ledger books it
back (db/ledger.py `reverse`); both are told. A JA, or anything that is not a no, changes
nothing. After the days the answer is that it is too late: the core group decides.
Invoices and claims are not offered this: their payee asked for the payment.
"""
from __future__ import annotations

import datetime as dt

from db import ledger, tokens
from db.members import normalise_address
from db.models import Account, ConfirmToken, Member, Transfer
from db.prepared import by_id

from . import Command, Context, Refusal, Reply
from .answers import answer, find_token
from .authenticated import disowned

PREFIX = "r"        # group+r-TOKEN@domain, subject "[r-TOKEN]"
# The token names its transfer in its action: "refuse:<transfer id>".
ACTION = "refuse:"
# Who may be refused: payments a payer (or a coordinator for one, or an administrator)
# made; not invoices or claims, which the payee asked for, nor levies and reversals.
REFUSABLE = ("payer", "proxy", "admin")


def offer(transfer: Transfer, payee: Member | None, to: str, settings, now: dt.datetime) -> dict | None:
    """The token and its last day for the payee's receipt of `transfer`, or None when the
    payee cannot refuse it (by mail, to their own address)."""
    days = settings.trades.refuse_days
    payer = by_id(Account, transfer.payer_id)
    if (days <= 0 or payee is None or transfer.initiator not in REFUSABLE or transfer.reverses_id is not None
            or payer.member_id is None or normalise_address(to) != normalise_address(payee.primary_address or "")):
        return None
    row, token = tokens.issue(f"{ACTION}{transfer.id}", payee, to, now=now, days=days)
    return {"token": token, "until": row.expires}


def headers(settings, refusal: dict | None) -> dict:
    group = settings.group
    return {"Reply-To": f"{group.local_part}+{PREFIX}-{refusal['token']}@{group.domain}"} if refusal else {}


def recognise(inbound, settings) -> Command | None:
    """The answer to a receipt that offered a refusal: a mail carrying an `r` token."""
    token = find_token(inbound, settings, prefix=PREFIX)
    return Command("refuse", None, token, inbound.reply_text) if token else None


def _find(token: str) -> ConfirmToken | None:
    row = ConfirmToken.get_or_none(ConfirmToken.digest == tokens.digest(token))
    return row if row is not None and row.action.startswith(ACTION) else None


def _name(account_id: int) -> str:
    account = by_id(Account, account_id)
    return by_id(Member, account.member_id).name if account.member_id else account.name


def handle(command: Command, ctx: Context) -> list[Reply]:
    row = _find(command.argument or "")
    if row is None or normalise_address(ctx.sender) != row.address:
        raise Refusal("refuse/unknown")
    transfer = Transfer.get_by_id(int(row.action[len(ACTION):]))
    context = {"transfer": transfer, "payer": _name(transfer.payer_id), "payee": _name(transfer.payee_id),
               "until": row.expires}
    if answer(command.body) != "no":
        return [Reply("refuse/kept", context)]
    if disowned(ctx.mail):
        raise Refusal("refuse/unauthenticated", **context, address=ctx.sender)
    if row.used is not None or Transfer.select().where(Transfer.reverses == transfer.id).exists():
        raise Refusal("refuse/already", **context)
    if row.expires <= ctx.now:
        raise Refusal("refuse/too-late", **context)
    if not tokens.spend(ConfirmToken, row, ctx.now):
        raise Refusal("refuse/already", **context)
    booking = ledger.reverse(transfer.number, now=ctx.now, entered_by=row.address, limits=ctx.settings.limits)
    context["reversal"] = booking.transfer
    # Balances read afresh: by_id may answer from before the reversal (db/memo.py).
    replies = [Reply("refuse/refused", {**context, "balance": Account.get_by_id(transfer.payee_id).balance_cents})]
    payer = Account.get_by_id(transfer.payer_id)
    to = by_id(Member, payer.member_id).primary_address if payer.member_id else None
    if to:
        replies.append(Reply("refuse/reversed", {**context, "balance": payer.balance_cents}, to=to))
    return replies
