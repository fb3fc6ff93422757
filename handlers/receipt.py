"""What both parties are told when a transfer is booked, kept open, reminded or expired."""
from __future__ import annotations

import email.parser
import email.policy
import re

from db import advice, ledger
from db.members import normalise_address
from db.models import Account, InboundMessage, Member, Transfer
from db.prepared import by_id

from . import Reply, refuse

# Transfers the payee asked for by mail (FACTUUR, DECLARATIE): the payee's mail answers it.
ASKED_BY_PAYEE = ("payee", "claim")


def _party(account_id: int) -> tuple[Account, Member | None]:
    account = by_id(Account, account_id)
    return account, (by_id(Member, account.member_id) if account.member_id else None)


def _name(account: Account, member: Member | None) -> str:
    return member.name if member else account.name


def address(member: Member | None, transfer: Transfer) -> str | None:
    """Where a party's mail goes: their own address, or for a member without email the
    coordinator who confirms an invoice for them as its payer, else the coordinator who
    entered the transfer for them (VOOR), so it can be passed on."""
    if member is None:
        return None
    if member.primary_address:
        return member.primary_address
    confirms = transfer.confirmed_by if by_id(Account, transfer.payer_id).member_id == member.id else ""
    coordinator = re.search(r"<([^<>\s]+@[^<>\s]+)>$", confirms or transfer.entered_by)
    return coordinator.group(1) if coordinator else None


def answers(transfer: Transfer, role: str, to: str, answering=None) -> tuple[str, tuple[str, ...]] | None:
    """The mail a party's receipt answers, as (Message-ID, References): for the payer, the
    mail that gave the consent (`answering`: a JA, or a payment that was its own
    consent); for the payee, the invoice or claim the payee sent from the address the
    receipt goes to. None: it answers no mail of theirs."""
    if role == "payer":
        return (answering.message_id, tuple(answering.references)) if answering is not None else None
    if transfer.initiator not in ASKED_BY_PAYEE or transfer.source_id is None:
        return None
    source = (InboundMessage.select(InboundMessage.message_id, InboundMessage.sender, InboundMessage.raw)
              .where(InboundMessage.id == transfer.source_id).first())
    if source is None or normalise_address(source.sender) != normalise_address(to):
        return None
    return source.message_id, _references(bytes(source.raw))


def _references(raw: bytes) -> tuple[str, ...]:
    """The Message-IDs in a stored mail's References header (its header block alone)."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
    return tuple(re.findall(r"<[^<>\s]+>", str(headers.get("References", ""))))


def booked(transfer: Transfer, settings, now, answering=None) -> list[Reply]:
    """A receipt to each member party with the running number and the new balance,
    threaded to the mail of theirs it answers (`answers`). The payee's receipt of a
    payment carries a token to refuse it by reply (handlers/refuse.py, article 17.1)."""
    payer_account, payer = _party(transfer.payer_id)
    payee_account, payee = _party(transfer.payee_id)
    replies = []
    for role, account, member in (("payer", payer_account, payer), ("payee", payee_account, payee)):
        to = address(member, transfer)
        if to is None:
            continue
        balance = by_id(Account, account.id).balance_cents
        refusal = refuse.offer(transfer, member, to, settings, now) if role == "payee" else None
        replies.append(Reply("receipt/booked", {
            "transfer": transfer, "role": role,
            "payer": _name(payer_account, payer), "payee": _name(payee_account, payee),
            "balance": balance, "advice": advice.for_receipt(account, settings.limits, now, balance),
            "refuse": refusal,
        }, to=to, answers=answers(transfer, role, to, answering), headers=refuse.headers(settings, refusal)))
    return replies


def kept_open(transfer: Transfer, waiting_for: str = "upper", answering=None) -> list[Reply]:
    """The payee is at the upper limit: the payment waits, and a donation would make room.
    Or (FACTUUR OPEN) the payer is at the lower limit: it waits at the payee's risk.
    Each notice is threaded as a receipt would be."""
    payer_account, payer = _party(transfer.payer_id)
    payee_account, payee = _party(transfer.payee_id)
    watched = payee_account if waiting_for == "upper" else payer_account
    context = {"transfer": transfer, "payer": _name(payer_account, payer), "payee": _name(payee_account, payee),
               "balance": watched.balance_cents}
    prefix = "receipt/open" if waiting_for == "upper" else "receipt/open-lower"
    replies = []
    for role, member in (("payer", payer), ("payee", payee)):
        to = address(member, transfer)
        if to:
            replies.append(Reply(f"{prefix}-{role}", context, to=to,
                                 answers=answers(transfer, role, to, answering)))
    return replies


def receipts(booking: ledger.Booking, settings, now, answering=None) -> list[Reply]:
    """The mails a booking sends. `answering` is the payer's mail that gave the consent
    (mailer.message.parse.Inbound), which the payer's receipt answers; the transfers the booking
    settled on the way (open invoices that now had room) answer no mail of this one."""
    if booking.state == "open":
        return kept_open(booking.transfer, booking.waiting_for, answering)
    replies = booked(booking.transfer, settings, now, answering)
    for transfer in booking.settled:
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
    return [Reply("receipt/expired", {**context, "role": role}, to=address(member, transfer))
            for role, member in told if address(member, transfer)]


def draft_expired(transfer: Transfer) -> list[Reply]:
    """A coordinator's invoice they never confirmed: only the coordinator is told."""
    payer_account, payer = _party(transfer.payer_id)
    payee_account, payee = _party(transfer.payee_id)
    context = {"transfer": transfer, "payer": _name(payer_account, payer), "payee": _name(payee_account, payee)}
    to = address(payee, transfer)
    return [Reply("receipt/draft-expired", context, to=to)] if to else []


def open_expired(transfer: Transfer, days: int) -> list[Reply]:
    """An open invoice that found no room in `days`: both parties are told, nothing is booked."""
    payer_account, payer = _party(transfer.payer_id)
    payee_account, payee = _party(transfer.payee_id)
    context = {"transfer": transfer, "payer": _name(payer_account, payer), "payee": _name(payee_account, payee),
               "days": days}
    return [Reply("receipt/open-expired", {**context, "role": role}, to=address(member, transfer))
            for role, member in (("payer", payer), ("payee", payee)) if address(member, transfer)]
