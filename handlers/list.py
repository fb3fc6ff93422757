"""LIJST / LIST / LISTE [category]: all current offers and requests."""
from __future__ import annotations

from db import listings

from . import Command, Context, Reply
from .commands import fold

# A list mail stays readable on a phone; the rest is one LIJST <category> away.
MAX_SHOWN = 200


def handle(command: Command, ctx: Context) -> list[Reply]:
    category = fold(command.argument).strip() or None
    rows = list(listings.current(ctx.today, category=category).limit(MAX_SHOWN + 1))
    shown = rows[:MAX_SHOWN]
    return [Reply("list/shown", {
        "category": category,
        "offers": [row for row in shown if row.kind == "offer"],
        "requests": [row for row in shown if row.kind == "request"],
        "truncated": len(rows) > MAX_SHOWN,
        "show_addresses": ctx.settings.privacy.show_addresses,
    })]
