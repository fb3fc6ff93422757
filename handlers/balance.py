"""SALDO / BALANCE / SOLDE: the member's balance, limits, last transfers and the journal's head."""
from __future__ import annotations

from db import ledger, limits, members
from db.models import Account

from . import Command, Context, Reply, Term

# The journal's head as shown below the answer: 12 hex digits are enough to compare by
# eye with another member's or a receipt's; the whole hash is `lets ledger verify`'s.
HEAD_DIGITS = 12


def handle(command: Command, ctx: Context) -> list[Reply]:
    account = members.account(ctx.member)
    lower, upper = limits.for_member(ctx.member, ctx.settings.limits, ctx.today)
    names = {}
    lines = []
    for transfer in ledger.recent(account, 5):
        incoming = transfer.payee_id == account.id
        other = transfer.payer_id if incoming else transfer.payee_id
        if other not in names:
            names[other] = Account.get_by_id(other).name
        # The group's own accounts, the ledger's own descriptions and who entered a levy
        # print in the reader's language (mailer/message/terms.py).
        lines.append({"number": transfer.number, "date": transfer.booked.date(), "other": Term("party", names[other]),
                      "amount": transfer.amount_cents if incoming else -transfer.amount_cents,
                      "description": Term("description", transfer.description),
                      "entered_by": Term("entered_by", transfer.entered_by) if transfer.entered_by else "",
                      "confirmed_by": transfer.confirmed_by})
    return [Reply("balance/shown", {"balance": account.balance_cents, "lower": lower, "upper": upper,
                                    "transfers": lines, "head": ledger.head_hash()[:HEAD_DIGITS],
                                    "on_behalf": ""})]
