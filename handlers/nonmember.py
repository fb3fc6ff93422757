"""Mail from an address that is not a member's: how to join, at most once a day per address."""
from __future__ import annotations

import datetime as dt

from db.models import Notice

from . import Command, Context, Reply, join


def handle(command: Command, ctx: Context) -> list[Reply]:
    if command.kind == "join":
        # Applying is the one thing a non-member may do, and is answered every time.
        return join.handle(command, ctx)
    hours = ctx.settings.inbound.nonmember_reply_hours
    notice, created = Notice.get_or_create(address=ctx.sender, kind="nonmember",
                                           defaults={"sent_at": ctx.now})
    if not created:
        if notice.sent_at > ctx.now - dt.timedelta(hours=hours):
            return []
        notice.sent_at = ctx.now
        notice.save()
    # Never a member's name, address or balance here: the sender is not one of us.
    return [Reply("nonmember/explain", {}, language=command.language)]
