"""Everything the group holds about one member, as plain data for `lets member export`.

What counts as the member's personal data: the member row and account; addresses and
their bounces; preferences and own limits; listings; every transfer to or from the
account (counterparties by number and name, as statements show them); consent tokens
(metadata only: the stored hash is useless to anyone); contributions and waivers;
notices kept per address; digests delivered; mail received from the member's
addresses (metadata and the raw message as it arrived); mail sent to them (metadata).
Other members' mail that merely names the member is theirs, and is not included.
"""
from __future__ import annotations

import datetime as dt
import email
from email.header import decode_header, make_header

from peewee import fn

from . import paper
from .members import account as account_of
from .models import (Account, Address, Bounce, ConfirmToken, ConsentToken, Contribution, DigestDelivery,
                     InboundMessage, Listing, Member, MemberLimit, MemberPreference, Notice, OutboundMessage, Transfer)

FORMAT = 1


def _time(value) -> str | None:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _text(raw) -> str:
    return bytes(raw or b"").decode("utf-8", "replace")


def _subject(raw) -> str:
    """The Subject of a stored message; only the header block is parsed."""
    head = bytes(raw or b"").split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    value = email.message_from_bytes(head).get("Subject", "")
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # a malformed encoded word: show it as it came
        return str(value)


def addresses_of(member: Member) -> list[str]:
    return [row.email for row in Address.select().where(Address.member == member).order_by(Address.id)]


def inbound_of(member: Member, addresses: list[str]):
    """Mail we received from the member: linked when processed, or by its sender."""
    bounced = Bounce.select(Bounce.inbound).join(Address).where(Address.member == member)
    query = InboundMessage.member == member
    if addresses:
        query |= InboundMessage.sender.in_(addresses) | fn.LOWER(InboundMessage.mail_from).in_(addresses)
    return InboundMessage.select().where(query | InboundMessage.id.in_(bounced)).order_by(InboundMessage.id)


def _counterparty(account_id: int, names: dict) -> dict:
    if account_id not in names:
        row = Account.get_by_id(account_id)
        number = Member.get_by_id(row.member_id).number if row.member_id else None
        names[account_id] = {"member": number, "name": row.name, "account": row.code}
    return names[account_id]


def transfers_of(account: Account) -> list[dict]:
    names: dict = {}
    rows = (Transfer.select().where((Transfer.payer == account) | (Transfer.payee == account))
            .order_by(Transfer.id))
    found = []
    for row in rows:
        incoming = row.payee_id == account.id
        found.append({
            "id": row.id, "number": row.number, "state": row.state, "created": _time(row.created),
            "booked": _time(row.booked), "amount_cents": row.amount_cents if incoming else -row.amount_cents,
            "counterparty": _counterparty(row.payer_id if incoming else row.payee_id, names),
            "description": row.description, "initiator": row.initiator, "entered_by": row.entered_by,
            "confirmed_by": row.confirmed_by,
            "reverses": row.reverses_id, "hash": row.hash})
    return found


def export(member: Member) -> dict:
    """The member's data as a JSON-ready dict."""
    account = account_of(member)
    addresses = addresses_of(member)
    preference = MemberPreference.get_or_none(MemberPreference.member == member)
    own_limits = MemberLimit.get_or_none(MemberLimit.member == member)
    transfers = transfers_of(account)
    tokens = (ConsentToken.select().where(ConsentToken.address.in_(addresses)
                                          | ConsentToken.transfer.in_([t["id"] for t in transfers]))
              .order_by(ConsentToken.id))
    return {
        "format": FORMAT,
        "member": {"number": member.number, "name": member.name, "type": member.type, "status": member.status,
                   "language": member.language, "joined": _time(member.joined), "created": _time(member.created)},
        "account": {"code": account.code, "name": account.name, "balance_cents": account.balance_cents},
        "addresses": [{"email": row.email, "primary": row.primary, "failing": row.failing,
                       "bounces": [_time(b.received) for b in row.bounces.order_by(Bounce.id)]}
                      for row in Address.select().where(Address.member == member).order_by(Address.id)],
        "preferences": {"digest": member.digest, "language": member.language,
                        "categories": [c for c in (preference.categories if preference else "").split(",") if c],
                        "paper": paper.wants(member)},
        "limits": ({"lower_cents": own_limits.lower_cents, "upper_cents": own_limits.upper_cents}
                   if own_limits else None),
        "listings": [{"id": row.id, "kind": row.kind, "title": row.title, "description": row.description,
                      "category": row.category, "level": row.level, "rate_text": row.rate_text,
                      "created": _time(row.created), "expires": _time(row.expires), "status": row.status}
                     for row in Listing.select().where(Listing.member == member).order_by(Listing.id)],
        "transfers": transfers,
        "consent_tokens": [{"transfer": row.transfer_id, "address": row.address, "created": _time(row.created),
                            "expires": _time(row.expires), "used": _time(row.used)} for row in tokens],
        "confirm_tokens": [{"action": row.action, "address": row.address, "created": _time(row.created),
                            "expires": _time(row.expires), "used": _time(row.used)}
                           for row in ConfirmToken.select().where(ConfirmToken.member == member)
                           .order_by(ConfirmToken.id)],
        "contributions": [{"period": row.period, "state": row.state, "amount_cents": row.amount_cents,
                           "reason": row.reason, "transfer": row.transfer_id, "created": _time(row.created)}
                          for row in Contribution.select().where(Contribution.member == member)
                          .order_by(Contribution.id)],
        "digests": [{"period": row.period, "created": _time(row.created)}
                    for row in DigestDelivery.select().where(DigestDelivery.member == member)
                    .order_by(DigestDelivery.id)],
        "notices": [{"address": row.address, "kind": row.kind, "sent_at": _time(row.sent_at)}
                    for row in Notice.select().where(Notice.address.in_(addresses + [f"limit:{account.code}"]))
                    .order_by(Notice.id)],
        "mail_received": [{"id": row.id, "message_id": row.message_id, "received_at": _time(row.received_at),
                           "sender": row.sender, "mail_from": row.mail_from, "state": row.state,
                           "kind": row.kind, "reason": row.reason, "subject": _subject(row.raw),
                           "raw": _text(row.raw)} for row in inbound_of(member, addresses)],
        "mail_sent": [{"id": row.id, "message_id": row.message_id, "created": _time(row.created),
                       "recipient": row.recipient, "kind": row.kind, "state": row.state,
                       "sent_at": _time(row.sent_at), "subject": _subject(row.raw)}
                      for row in OutboundMessage.select().where(OutboundMessage.recipient.in_(addresses))
                      .order_by(OutboundMessage.id)],
    }
