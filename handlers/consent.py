"""JA / YES / OUI or NEE / NO / NON in reply to a confirmation: the payer's consent.

Consent counts only when the mail carries a token we sent to the payer's own mailbox
(in the plus-address it was sent to, or in the subject when a client drops Reply-To),
comes from that same address, is not automatic (the guard drops auto-replies before
this), and says yes or no on its first line. A forged From: without the token, a
replay, an expired token or In-Reply-To alone books nothing; nor does a mail that fails
the DMARC check of a From domain whose policy is quarantine or reject, token or not.
"""
from __future__ import annotations

from db import ledger, listing_links
from db.members import normalise_address
from db.models import Account, Member, Transfer
from db.prepared import by_id

from . import Command, Context, Refusal, Reply, claim, proxy_invoice
from .authenticated import disowned, sender_auth
from .answers import answer, find_token
from .receipt import address, receipts


def recognise(inbound, settings) -> Command | None:
    token = find_token(inbound, settings)
    return Command("consent", None, token, inbound.reply_text) if token else None


def handle(command: Command, ctx: Context) -> list[Reply]:
    if not command.argument:
        # A bare JA/NEE to the group address: In-Reply-To alone authorises nothing.
        raise Refusal("consent/no-token")
    row = ledger.find_token(command.argument)
    if row is None:
        raise Refusal("consent/unknown")
    transfer = by_id(Transfer, row.transfer_id)
    if normalise_address(ctx.sender) != row.address:
        raise Refusal("consent/wrong-address")
    if disowned(ctx.mail):
        # A forged From with a token that leaked (a forwarded confirmation): the From
        # domain's DMARC policy disowns the mail. The token stays valid for the member.
        raise Refusal("consent/unauthenticated", transfer=transfer, address=ctx.sender)
    if row.used is not None or transfer.state not in ("pending", "draft"):
        raise Refusal("consent/already", transfer=transfer)
    if row.expires <= ctx.now or transfer.expires <= ctx.now:
        raise Refusal("consent/expired", transfer=transfer)
    said = answer(command.body)
    if said is None:
        raise Refusal("consent/unclear", transfer=transfer)
    if not ledger.use_token(row, ctx.now):
        raise Refusal("consent/already", transfer=transfer)
    if getattr(ctx.mail, "sender_auth", None) is not None:
        transfer = ledger.record_sender_auth(transfer, sender_auth(ctx.mail))
    if transfer.initiator == "claim":
        return claim.decide(transfer, said, row, ctx)
    if transfer.state == "draft":
        return proxy_invoice.decide(transfer, said, ctx)
    settings = ctx.settings
    if said == "no":
        transfer = ledger.decline(transfer, "rejected" if transfer.initiator == "payee" else "cancelled", ctx.now)
        replies = [Reply("consent/cancelled", {"transfer": transfer})]
        payee = _member(transfer.payee_id)
        if transfer.initiator == "payee" and address(payee, transfer):
            replies.append(Reply("consent/refused", {"transfer": transfer, "payer": _name(transfer.payer_id)},
                                 to=address(payee, transfer)))
        return replies
    if transfer.listing_id is None and ctx.mail is not None:
        # The confirmation may be what replies to the listing's mail or the digest.
        listing = listing_links.referenced([*ctx.mail.in_reply_to.split(), *ctx.mail.references],
                                           by_id(Account, transfer.payer_id), by_id(Account, transfer.payee_id))
        if listing is not None:
            transfer = ledger.link_listing(transfer, listing)
    try:
        booking = ledger.book(transfer, limits=settings.limits, now=ctx.now)
    except ledger.LedgerError as exc:
        if exc.code == "inactive":
            raise Refusal("trade/inactive", kind="pay", **exc.context) from None
        if exc.code != "over-lower":
            raise Refusal("consent/already", transfer=transfer) from None
        # The balance moved since the proposal. Rolled back with the rest of this mail:
        # the token stays valid, so JA may be sent again once there is room.
        raise Refusal("consent/over-lower", transfer=transfer, **exc.context) from None
    return receipts(booking, settings, ctx.now, answering=ctx.mail)


def _name(account_id: int) -> str:
    member = _member(account_id)
    return member.name if member else Account.get_by_id(account_id).name


def _member(account_id: int) -> Member | None:
    account = Account.get_by_id(account_id)
    return account.member if account.member_id else None
