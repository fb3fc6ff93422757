"""INTREKKEN / WITHDRAW / RETIRER <ref>: take an offer or request down."""
from __future__ import annotations

from db import listings

from . import Command, Context, Reply
from .lookup import own_listing


def handle(command: Command, ctx: Context) -> list[Reply]:
    listing = own_listing(command, ctx)
    already = listing.status == "withdrawn"
    if not already:
        listings.withdraw(listing)
    return [Reply("withdraw/done", {"listing": listing, "already": already})]
