"""LIJST / LIST / LISTE [category]: all current offers and requests."""
from __future__ import annotations

from db import listings

from . import Command, Context, Refusal, Reply

# A list mail stays readable on a phone; the rest is one LIJST <category> away.
MAX_SHOWN = 200


def handle(command: Command, ctx: Context) -> list[Reply]:
    categories = ctx.settings.listings.categories
    given = command.argument.strip()
    category = categories.find(given) if given else None
    if given and category is None:
        raise Refusal("list/unknown-category", given=given[:40], categories=categories.codes)
    rows = list(listings.current(ctx.today, category=category).limit(MAX_SHOWN + 1))
    shown = rows[:MAX_SHOWN]
    return [Reply("list/shown", {
        "category": category,
        "categories": categories.codes,
        "offers": [row for row in shown if row.kind == "offer"],
        "requests": [row for row in shown if row.kind == "request"],
        "truncated": len(rows) > MAX_SHOWN,
        "show_addresses": ctx.settings.privacy.show_addresses,
    })]
