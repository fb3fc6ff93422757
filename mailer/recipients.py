"""Mail to a plus address of the group: which prefix is handled by what.

`group+u-TOKEN@…` unsubscribes, `group+b-TOKEN@…` is a VERP return path for bounces.
A new kind of plus address is one more row here: (prefix, receive function).
Each function takes (settings, address, understood, row, processor, now) and returns
(state, kind, reason) for the stored mail; none of them ever answers the sender.
"""
from __future__ import annotations

from . import bounces, unsubscribe
from .message.subaddress import split, verify

ROUTES = {
    "u": unsubscribe.receive,
    "b": bounces.receive,
}


def receive(settings, understood, row, processor, now) -> tuple[str, str, str] | None:
    """Handle a mail sent to one of our signed plus addresses; None when it was not."""
    for recipient in understood.inbound.rcpt_tos:
        found = split(settings, recipient)
        if not found or found[0] not in ROUTES:
            continue
        prefix, token = found
        address = verify(settings, prefix, token)
        if address is None:
            return "ignored", "forged-token", f"bad or unknown token in {recipient}"
        return ROUTES[prefix](settings, address, understood, row, processor, now)
    return None
