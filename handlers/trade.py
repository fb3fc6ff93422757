"""BETAAL / FACTUUR / SCHENK (PAY / INVOICE / DONATE, PAYER / FACTURE / DONNER): propose a
transfer; the payer always confirms by replying to a mail that carries a one-time token."""
from __future__ import annotations

import re

from db import ledger, members
from db.models import Account, Member
from db.money import AmountError, parse_amount

from . import Command, Context, Refusal, Reply
from .commands import fold

# "12 aan piet@example.org voor fietsherstel", "12,50 to 7 for lessons", "12 à Claire pour …"
TRADE = re.compile(r"^(?P<amount>\S+)\s+(?:aan|naar|to|à|a|au)\s+(?P<who>.+?)"
                   r"(?:\s+(?:voor|for|pour)\s+(?P<what>.+))?$", re.S)


def token_headers(settings, token: str) -> dict[str, str]:
    """Replies go to group+t-TOKEN@domain; only the payer's mailbox ever sees it."""
    group = settings.group
    return {"Reply-To": f"{group.local_part}+t-{token}@{group.domain}"}


def counterparty(who: str, ctx: Context) -> Member:
    """The member named by address, number or a name that matches exactly one member."""
    who = who.strip().strip("<>").rstrip(".,;")
    shared = members.at_address(who) if "@" in who else []
    if len(shared) > 1:
        # A household's address names several members: the number or the name says which.
        raise Refusal("trade/ambiguous", who=who[:80],
                      candidates=[{"number": m.number, "name": m.name} for m in shared[:10]])
    found = members.by_number_or_address(who) if ("@" in who or who.lstrip("#").isdigit()) else None
    if found is None and who.lstrip("#").isdigit():
        found = members.by_number_or_address(who.lstrip("#"))
    if found is not None:
        return found
    if "@" in who or who.lstrip("#").isdigit():
        raise Refusal("trade/unknown-member", who=who[:80])
    words = fold(who).split()
    candidates = [m for m in Member.select().where(Member.status != "left").order_by(Member.number)
                  if all(word in fold(m.name).split() for word in words)]
    exact = [m for m in candidates if fold(m.name) == fold(who)]
    if len(exact) == 1 or len(candidates) == 1:
        return (exact or candidates)[0]
    if not candidates:
        raise Refusal("trade/unknown-member", who=who[:80])
    raise Refusal("trade/ambiguous", who=who[:80],
                  candidates=[{"number": m.number, "name": m.name} for m in candidates[:10]])


def _amount(text: str, kind: str) -> int:
    try:
        return parse_amount(text)
    except AmountError as exc:
        raise Refusal("trade/invalid", kind=kind, problem=exc.code, text=text[:40]) from None


def _refusal(exc: ledger.LedgerError, kind: str) -> Refusal:
    return Refusal(f"trade/{exc.code}", kind=kind, **exc.context)


def handle(command: Command, ctx: Context) -> list[Reply]:
    kind, settings = command.kind, ctx.settings
    own = members.account(ctx.member)
    if kind == "donate":
        amount = _amount(command.argument, kind)
        other, other_account, description = None, Account.get(Account.code == "solidarity"), "donation to the solidarity fund"
    else:
        found = TRADE.match(command.argument.strip())
        if not found:
            raise Refusal("trade/invalid", kind=kind, problem="format", text=command.argument[:80])
        amount = _amount(found.group("amount"), kind)
        description = found.group("what") or command.body.split("\n", 1)[0]
        other = counterparty(found.group("who"), ctx)
        if other.id == ctx.member.id:
            raise Refusal("trade/same-account", kind=kind)
        other_account = members.account(other)
    payer, payee = (other_account, own) if kind == "invoice" else (own, other_account)
    try:
        transfer = ledger.propose(payer, payee, amount, description, limits=settings.limits, now=ctx.now,
                                  initiator="payee" if kind == "invoice" else "payer",
                                  confirm_days=settings.trades.confirm_days, source=ctx.inbound)
    except ledger.LedgerError as exc:
        raise _refusal(exc, kind) from None
    # The token goes to the payer's own mailbox: the sender's address for a payment,
    # the payer's primary address for an invoice (never an address the mail named).
    payer_address = ctx.sender if kind != "invoice" else other.primary_address
    token = ledger.issue_token(transfer, payer_address, now=ctx.now, days=settings.trades.confirm_days)
    context = {"transfer": transfer, "token": token, "kind": kind,
               "payer": _name(payer), "payee": _name(payee), "expires": transfer.expires}
    ask = Reply("trade/confirm" if kind != "invoice" else "trade/invoice", context,
                to=payer_address if kind == "invoice" else None, headers=token_headers(settings, token))
    if kind != "invoice":
        return [ask]
    told = Reply("trade/invoice-sent", {"transfer": transfer, "payer": _name(payer), "expires": transfer.expires})
    return [ask, told]


def _name(account: Account) -> str:
    return account.name if account.member_id is None else Member.get_by_id(account.member_id).name

