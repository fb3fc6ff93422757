"""Finding a member's own listing from the reference a mail names ("12", "#12")."""
from __future__ import annotations

import re

from db.models import Listing

from . import Command, Context, Refusal


def own_listing(command: Command, ctx: Context) -> Listing:
    """The listing `command.argument` names, if it is the sender's; else a Refusal."""
    match = re.fullmatch(r"#?\s*(\d{1,9})", command.argument.strip())
    if not match:
        raise Refusal(f"{command.kind}/no-reference", reference=command.argument[:40])
    listing = Listing.get_or_none(Listing.id == int(match.group(1)))
    if listing is None or listing.member_id != ctx.member.id:
        # Someone else's listing reads the same as a missing one: no information leaks.
        raise Refusal(f"{command.kind}/not-found", reference=match.group(1))
    return listing
