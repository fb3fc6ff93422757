"""A coordinator's JA / NEE to the invoice they wrote for a member without email.

Such an invoice starts as a draft whose token went to the coordinator's own mailbox
(handlers/trade.py). JA releases it: the payer gets the invoice and their own token,
as for any invoice, and the payer's JA books it. NEE cancels it; the payer never hears
of it. A draft left unanswered expires (mailer/runs/trades.py) and only the coordinator is told.
"""
from __future__ import annotations

from db import ledger
from db.models import Account, Transfer

from . import Context, Refusal, Reply
from .trade import ask_payer, payer_mailbox


def decide(transfer: Transfer, said: str, ctx: Context) -> list[Reply]:
    if said == "no":
        return [Reply("consent/cancelled", {"transfer": ledger.decline(transfer, "cancelled", ctx.now)})]
    payer = Account.get_by_id(transfer.payer_id).member
    payee = Account.get_by_id(transfer.payee_id).member
    address, confirmed_by = payer_mailbox(payer, ctx.settings)
    if address is None:
        # The payer lost their address or coordinator since: the JA is rolled back with
        # this mail, so the coordinator can answer again once someone can confirm.
        raise Refusal("trade/no-address", name=payer.name)
    try:
        transfer = ledger.release(transfer, now=ctx.now, confirm_days=ctx.settings.trades.confirm_days,
                                  confirmed_by=confirmed_by)
    except ledger.LedgerError:
        raise Refusal("consent/already", transfer=transfer) from None
    return ask_payer(transfer, payer, ctx, on_behalf=payee.name)
