"""SALDO / BALANCE / SOLDE: the member's balance."""
from __future__ import annotations

from db import members

from . import Command, Context, Reply


def handle(command: Command, ctx: Context) -> list[Reply]:
    account = members.account(ctx.member)
    return [Reply("balance/shown", {"balance": account.balance_cents})]
