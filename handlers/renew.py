"""VERLENG / RENEW / PROLONGER <ref>: keep an offer or request visible for another period."""
from __future__ import annotations

import datetime as dt

from db import listings

from . import Command, Context, Reply
from .lookup import own_listing


def handle(command: Command, ctx: Context) -> list[Reply]:
    listing = own_listing(command, ctx)
    expires = ctx.today + dt.timedelta(days=ctx.settings.listings.days)
    listings.renew(listing, max(expires, listing.expires))
    return [Reply("renew/done", {"listing": listing})]
