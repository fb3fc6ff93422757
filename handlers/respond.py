"""REAGEER / RESPOND / RÉPONDRE <ref> <text>: a message to a listing's poster, through the group.

When the group keeps addresses private the poster sees the responder's name and
number, not the address; otherwise Reply-To lets them answer directly.
"""
from __future__ import annotations

import re

from db.models import Listing

from . import Command, Context, Refusal, Reply

REFERENCE = re.compile(r"^#?\s*(\d{1,9})\s*(.*)$", re.S)


def handle(command: Command, ctx: Context) -> list[Reply]:
    found = REFERENCE.match(command.argument.strip())
    if not found:
        raise Refusal("respond/no-reference", reference=command.argument[:40])
    listing = Listing.get_or_none(Listing.id == int(found.group(1)))
    if listing is None or listing.status != "active" or listing.expires < ctx.today:
        raise Refusal("respond/not-found", reference=found.group(1))
    text = "\n".join(part for part in (found.group(2).strip(), command.body.strip()) if part)
    if not text:
        raise Refusal("respond/empty", reference=found.group(1))
    poster = listing.member
    show = ctx.settings.privacy.show_addresses
    headers = {"Reply-To": ctx.sender} if show else {}
    return [
        Reply("respond/relayed", {"listing": listing, "responder": ctx.member, "text": text[:5000],
                                  "responder_address": ctx.sender if show else ""},
              to=poster.primary_address, headers=headers),
        Reply("respond/sent", {"listing": listing, "poster": poster.name}),
    ]
