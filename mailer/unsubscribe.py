"""Unsubscribing from bulk mail: by the signed mailto: address or the one-click URL (RFC 8058).

Both stop the digest for the member whose address the token names, without a
question and without a reply: a confirmation mail to someone who said "stop"
is the kind of mail that gets a group's mail marked as spam.
"""
from __future__ import annotations

from db import database
from db.models import Address, Member

from .message.subaddress import verify


def unsubscribe(address: Address) -> Member:
    with database.atomic():
        member = Member.get_by_id(address.member_id)
        member.digest = "off"
        member.save()
    return member


def by_token(settings, token: str) -> Member | None:
    """Unsubscribe the member a genuine `u` token names; None for a forged or stale token."""
    address = verify(settings, "u", token)
    return unsubscribe(address) if address else None


def receive(settings, address: Address, understood, row, processor, now) -> tuple[str, str, str]:
    """Mail to group+u-TOKEN@…: recorded, acted on, never answered."""
    member = unsubscribe(address)
    return "processed", "unsubscribe", f"digest off for member {member.number} ({address.email})"
