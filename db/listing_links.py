"""Which listing a trade is about, and what the group trades per category.

A trade is linked to a listing when its mail replies to a mail that presented the
listing (the listing's confirmation, an instant mail, the poster's own mail, or a
digest that showed it) or names it as `#7`. Only a listing of one of the two parties
fits: an offer of the payee or a request of the payer; several that fit link none.
"""
from __future__ import annotations

import datetime as dt

from peewee import JOIN, fn

from .models import Account, DigestDelivery, InboundMessage, Listing, ListingMail, Transfer
from .prepared import Prepared, prepared_insert

# A long thread's References is capped: the mails we presented listings in are recent.
MAX_REFERENCES = 20


def record(message_id: str, listing_id: int) -> None:
    """Remember an outgoing mail that presents one listing."""
    _insert(message_id=message_id, listing=listing_id)


# Every offer's confirmation is recorded: an ORM create cost more than composing it.
_insert = prepared_insert(ListingMail)


def _fitting(payer: Account, payee: Account):
    """Listings this trade can be about: the payee's offers and the payer's requests."""
    sides = []
    if payee.member_id is not None:
        sides.append((Listing.member == payee.member_id) & (Listing.kind == "offer"))
    if payer.member_id is not None:
        sides.append((Listing.member == payer.member_id) & (Listing.kind == "request"))
    if not sides:
        return None
    condition = sides[0] if len(sides) == 1 else sides[0] | sides[1]
    return Listing.select().where(condition)


def _single(query) -> Listing | None:
    found = list(query.limit(2))
    return found[0] if len(found) == 1 else None


def referenced(message_ids, payer: Account, payee: Account) -> Listing | None:
    """The listing presented by one of the mails `message_ids` (In-Reply-To, References)."""
    ids = [m for m in dict.fromkeys(message_ids) if m][-MAX_REFERENCES:]
    if not ids or not _presents_any(ids):
        return None
    fitting = _fitting(payer, payee)
    if fitting is None:
        return None
    presented = ListingMail.select(ListingMail.listing).where(ListingMail.message_id.in_(ids))
    posted = (Listing.select(Listing.id).join(InboundMessage, on=(Listing.source == InboundMessage.id))
              .where(InboundMessage.message_id.in_(ids)))
    found = _single(fitting.where(Listing.id.in_(presented) | Listing.id.in_(posted)))
    if found is not None:
        return found
    digests = DigestDelivery.select().where(DigestDelivery.message_id.in_(ids))
    for delivery in digests:
        # A digest shows what was posted since the member's previous digest.
        since = (DigestDelivery.select(fn.MAX(DigestDelivery.cutoff))
                 .where(DigestDelivery.member == delivery.member_id,
                        DigestDelivery.cutoff < delivery.cutoff).scalar())
        shown = fitting.where(Listing.created <= delivery.cutoff)
        if since is not None:
            shown = shown.where(Listing.created > since)
        found = _single(shown)
        if found is not None:
            return found
    return None


def _presents_any(ids: list[str]) -> bool:
    """Whether any of the mails presented a listing at all: most replies answer a
    confirmation request, and three indexed look-ups with SQL made once are much
    cheaper than building the search below for nothing."""
    checks = _CHECKS.get(len(ids))
    if checks is None:
        checks = _CHECKS[len(ids)] = [Prepared(lambda *marks, build=build: build(list(marks)).limit(1), len(ids))
                                      for build in _PRESENTING]
    return any(check.first(*ids) is not None for check in checks)


_PRESENTING = (
    lambda ids: ListingMail.select(ListingMail.id).where(ListingMail.message_id.in_(ids)),
    lambda ids: (Listing.select(Listing.id).join(InboundMessage, on=(Listing.source == InboundMessage.id))
                 .where(InboundMessage.message_id.in_(ids))),
    lambda ids: DigestDelivery.select(DigestDelivery.id).where(DigestDelivery.message_id.in_(ids)),
)
_CHECKS: dict[int, list[Prepared]] = {}


def by_number(number: int, payer: Account, payee: Account) -> Listing | None:
    """Listing `number` when it fits this trade (`BETAAL 12 aan piet voor #7`)."""
    fitting = _fitting(payer, payee)
    return None if fitting is None else fitting.where(Listing.id == number).first()


def volume_by_category(since: dt.date | None = None) -> list[tuple[str, int, int]]:
    """(category, trades, cents) of booked trades, largest volume first; "" is unlinked.

    Levies are not trades, and a reversed transfer and its reversal count for nothing."""
    reversed_ids = Transfer.select(Transfer.reverses).where(Transfer.reverses.is_null(False))
    category = fn.COALESCE(Listing.category, "")
    query = (Transfer.select(category.alias("category"), fn.COUNT(Transfer.id), fn.SUM(Transfer.amount_cents))
             .join(Listing, JOIN.LEFT_OUTER, on=(Transfer.listing == Listing.id))
             .where(Transfer.state == "booked", Transfer.initiator != "levy", Transfer.reverses.is_null(),
                    Transfer.id.not_in(reversed_ids))
             .group_by(category))
    if since is not None:
        query = query.where(Transfer.booked >= dt.datetime.combine(since, dt.time()))
    rows = [(name or "", int(count), int(total or 0)) for name, count, total in query.tuples()]
    return sorted(rows, key=lambda row: (-row[2], row[0]))
