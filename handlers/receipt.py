"""What both parties are told when a transfer is booked, kept open, reminded or expired."""
from __future__ import annotations

from db import ledger
from db.models import Account, Member, Transfer
from db.prepared import by_id

from . import Reply


def _party(account_id: int) -> tuple[Account, Member | None]:
    account = by_id(Account, account_id)
    return account, (by_id(Member, account.member_id) if account.member_id else None)


def _name(account: Account, member: Member | None) -> str:
    return member.name if member else account.name


def booked(transfer: Transfer, settings, now) -> list[Reply]:
    """A receipt to each member party with the running number and the new balance."""
    payer_account, payer = _party(transfer.payer_id)
    payee_account, payee = _party(transfer.payee_id)
    replies = []
    for role, account, member in (("payer", payer_account, payer), ("payee", payee_account, payee)):
        if member is None or not member.primary_address:
            continue
        replies.append(Reply("receipt/booked", {
            "transfer": transfer, "role": role,
            "payer": _name(payer_account, payer), "payee": _name(payee_account, payee),
            "balance": Account.get_by_id(account.id).balance_cents,
            "warning": ledger.limit_warning(account, settings.limits, now.date(), now),
        }, to=member.primary_address))
    return replies


def kept_open(transfer: Transfer) -> list[Reply]:
    """The payee is at the upper limit: the payment waits, and a donation would make room."""
    payer_account, payer = _party(transfer.payer_id)
    payee_account, payee = _party(transfer.payee_id)
    context = {"transfer": transfer, "payer": _name(payer_account, payer), "payee": _name(payee_account, payee),
               "balance": payee_account.balance_cents}
    replies = []
    if payer is not None:
        replies.append(Reply("receipt/open-payer", context, to=payer.primary_address))
    if payee is not None:
        replies.append(Reply("receipt/open-payee", context, to=payee.primary_address))
    return replies


def receipts(booking: ledger.Booking, settings, now) -> list[Reply]:
    if booking.state == "open":
        return kept_open(booking.transfer)
    replies = []
    for transfer in [booking.transfer, *booking.settled]:
        replies += booked(transfer, settings, now)
    return replies


def reminder(transfer: Transfer, token: str, headers: dict) -> Reply:
    payer_account, payer = _party(transfer.payer_id)
    payee_account, payee = _party(transfer.payee_id)
    return Reply("receipt/reminder", {"transfer": transfer, "token": token, "payee": _name(payee_account, payee),
                                      "expires": transfer.expires},
                 to=ledger.token_address(transfer), headers=headers)


def expired(transfer: Transfer) -> list[Reply]:
    payer_account, payer = _party(transfer.payer_id)
    payee_account, payee = _party(transfer.payee_id)
    context = {"transfer": transfer, "payer": _name(payer_account, payer), "payee": _name(payee_account, payee)}
    # The payee hears of it only when the payee asked (an invoice); a payment that was
    # never confirmed stays between the payer and the group.
    told = [("payer", payer)] + ([("payee", payee)] if transfer.initiator == "payee" else [])
    return [Reply("receipt/expired", {**context, "role": role}, to=member.primary_address)
            for role, member in told if member is not None]
