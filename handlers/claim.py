"""DECLARATIE 4 voor ledenadministratie / CLAIM 4 for … / DÉCLARATION 4 pour …: a member
claims work done for the group; the budget's holder approves by a tokened reply.

The argument is the amount, then optionally `voor|for|pour` and the budget's name (else
the group's default budget) and a description; the work month is written as YYYY-MM
anywhere in the line or the first body line, and is the current month when none is
given. The holder's JA/YES/OUI comes back through handlers/consent.py, which hands
claims to `decide` here.
"""
from __future__ import annotations

import re

from db import budgets, ledger
from db.models import Budget, Claim, ConsentToken, Transfer
from db.money import AmountError, parse_amount

from . import Command, Context, Refusal, Reply
from .authenticated import disowned
from .receipt import receipts
from .trade import token_headers

CLAIM = re.compile(r"^(?P<amount>\S+)(?:\s+(?:(?:voor|for|pour)\s+)?(?P<rest>.*))?$", re.S | re.I)


def _budget(rest: str, settings) -> tuple[Budget, str]:
    """The budget named by the first word, else the default one; and the remaining words."""
    first, _, remainder = rest.partition(" ")
    named = budgets.by_name(first.strip(".,;:")) if first else None
    if named is not None:
        return named, remainder.strip()
    default = budgets.by_name(settings.claims.default_budget) if settings.claims.default_budget else None
    if default is None:
        raise Refusal("claim/no-budget", named=first[:60],
                      budgets=[b.name for b in Budget.select().order_by(Budget.name)])
    return default, rest


def handle(command: Command, ctx: Context) -> list[Reply]:
    if disowned(ctx.mail):
        raise Refusal("trade/unauthenticated", kind="claim", address=ctx.sender)
    found = CLAIM.match(" ".join(command.argument.split()))
    if not found:
        raise Refusal("claim/invalid", problem="format", text=command.argument[:80])
    try:
        cents = parse_amount(found.group("amount"))
    except AmountError as exc:
        raise Refusal("claim/invalid", problem=exc.code, text=found.group("amount")[:40]) from None
    budget, rest = _budget(found.group("rest") or "", ctx.settings)
    year, month, rest = budgets.work_month(rest, ctx.today)
    body_line = command.body.split("\n", 1)[0].strip() if command.body else ""
    if rest == (found.group("rest") or "") and body_line and budgets.MONTH.search(body_line):
        year, month, body_line = budgets.work_month(body_line, ctx.today)
    description = rest or body_line or budget.name
    why = budgets.claimable(year, month, ctx.today, ctx.settings.claims)
    if why:
        raise Refusal("claim/not-now", problem=why, month=f"{year}-{month:02d}")
    if budget.holder_id == ctx.member.id:
        raise Refusal("claim/own-budget", budget=budget.name)
    try:
        claim = budgets.propose_claim(ctx.member, budget, cents, description, year=year, month=month,
                                      settings=ctx.settings, now=ctx.now, source=ctx.inbound)
    except ledger.LedgerError as exc:
        if exc.code == "over-lower":
            raise Refusal("claim/over-budget", budget=budget.name, amount=cents,
                          left=budgets.balance(budget)) from None
        raise Refusal("claim/invalid", problem=exc.code, text=command.argument[:80]) from None
    holder = budget.holder
    token = ledger.issue_token(claim.transfer, holder.primary_address, now=ctx.now,
                               days=ctx.settings.trades.confirm_days)
    context = _context(claim)
    return [Reply("claim/ask", {**context, "token": token}, to=holder.primary_address,
                  headers=token_headers(ctx.settings, token)),
            Reply("claim/sent", context)]


def _context(claim: Claim) -> dict:
    transfer = Transfer.get_by_id(claim.transfer_id)
    return {"transfer": transfer, "budget": claim.budget.name, "claimant": claim.member.name,
            "holder": claim.budget.holder.name, "month": claim.work_month,
            "left": budgets.balance(claim.budget), "expires": transfer.expires}


def decide(transfer: Transfer, said: str, token: ConsentToken, ctx: Context) -> list[Reply]:
    """The holder said yes or no to a claim (the token is valid and now used)."""
    claim = Claim.get(Claim.transfer == transfer)
    claimant = claim.member.primary_address
    if said == "no":
        ledger.decline(transfer, "rejected", ctx.now)
        context = _context(claim)
        return [Reply("claim/decided", {**context, "approved": False}),
                Reply("claim/refused", context, to=claimant)]
    try:
        booking = ledger.book(transfer, limits=ctx.settings.limits, now=ctx.now)
    except ledger.LedgerError as exc:
        # Rolled back with the rest of this mail: the token stays valid for a later yes.
        if exc.code == "over-lower":
            raise Refusal("claim/no-room", **_context(claim)) from None
        raise Refusal("trade/inactive", kind="claim", **exc.context) from None
    return [Reply("claim/decided", {**_context(claim), "approved": True})] + receipts(booking, ctx.settings, ctx.now)
