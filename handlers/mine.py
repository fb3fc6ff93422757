"""MIJN / MINE / MES: the member's own offers and requests, with their references."""
from __future__ import annotations

from db import listings

from . import Command, Context, Reply


def handle(command: Command, ctx: Context) -> list[Reply]:
    rows = list(listings.own(ctx.member))
    return [Reply("mine/shown", {
        "active": [row for row in rows if row.status == "active" and row.expires >= ctx.today],
        "expired": [row for row in rows if row.status == "expired" or row.expires < ctx.today],
    })]
