"""AANBOD / VRAAG (OFFER / REQUEST, OFFRE / DEMANDE, ANGEBOT / GESUCH): post an offer or a request."""
from __future__ import annotations

import datetime as dt

from db import listings

from . import Command, Context, Refusal, Reply
from .fields import parse
from .instant import notify


def handle(command: Command, ctx: Context) -> list[Reply]:
    fields = parse(command.argument, command.body, ctx.today)
    kind = command.kind
    if not fields.title:
        raise Refusal("listing/no-title", kind=kind)
    today = ctx.today
    if fields.expires is not None and fields.expires < today:
        fields.errors.append(("expires-past", fields.expires.isoformat()))
    if fields.errors:
        raise Refusal("listing/invalid", kind=kind, errors=fields.errors)
    # An unknown category does not stop the listing: it goes under "other" and the reply
    # names the group's categories. A member who writes by hand, or once a month, loses
    # nothing to a word we did not know; one who cares can withdraw it and post it again.
    categories = ctx.settings.listings.categories
    category = categories.code_for(fields.category)
    unknown = fields.category if fields.category and categories.find(fields.category) is None else ""
    longest = today + dt.timedelta(days=ctx.settings.listings.max_days)
    expires = fields.expires or today + dt.timedelta(days=ctx.settings.listings.days)
    capped = expires > longest
    listing = listings.post(
        ctx.member, kind, title=fields.title, description=fields.description,
        category=category, level=fields.level, rate_cents=fields.rate_cents,
        rate_text=fields.rate_text, expires=min(expires, longest), source=ctx.inbound)
    return [Reply("listing/posted", {"listing": listing, "capped": capped, "unknown_category": unknown,
                                     "given_category": bool(fields.category), "categories": categories.codes},
                  listing_id=listing.id),
            *notify(listing, ctx)]
