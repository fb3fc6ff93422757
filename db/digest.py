"""What a digest shows, read in batches: due members, new listings, own listings, the summary.

Every query here is for a whole batch of members or for the whole period, never
one per member per listing, so a run over 100,000 members costs a few queries a batch.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from peewee import JOIN, fn

from .models import (Account, Address, Announcement, DigestDelivery, Listing, Member, MemberPreference,
                     Transfer)

TRADING = ("active", "leaving")


@dataclass
class Recipient:
    """One member due a digest, with what the batch query already knows."""
    member: Member
    address_id: int
    email: str
    balance_cents: int
    only: tuple[str, ...]
    since: dt.datetime | None = None


def _recipients(period: str, after_id: int, limit: int, condition):
    delivered = DigestDelivery.alias()
    query = (Member.select(Member, Address.id.alias("address_id"), Address.email.alias("email"),
                           Account.balance_cents.alias("balance"),
                           MemberPreference.categories.alias("only"))
             .join(Address).switch(Member)
             .join(Account, JOIN.LEFT_OUTER, on=(Account.member == Member.id)).switch(Member)
             .join(MemberPreference, JOIN.LEFT_OUTER).switch(Member)
             .join(delivered, JOIN.LEFT_OUTER,
                   on=((delivered.member == Member.id) & (delivered.period == period)))
             .where(Member.id > after_id, Address.primary == True, condition(delivered))  # noqa: E712
             .order_by(Member.id).limit(limit).objects())
    return [Recipient(row, row.address_id, row.email, row.balance or 0,
                      tuple(c for c in (row.only or "").split(",") if c)) for row in query]


def due(period: str, frequencies: tuple[str, ...], after_id: int, limit: int) -> list[Recipient]:
    """The next `limit` members (by id, after `after_id`) with no digest for `period` yet."""
    return _recipients(period, after_id, limit, lambda delivered: (
        Member.status.in_(TRADING) & Member.digest.in_(frequencies) & (Address.failing == False)  # noqa: E712
        & delivered.id.is_null()))


def abandoned(period: str, now: dt.datetime, after_id: int, limit: int) -> list[Recipient]:
    """Members whose digest for `period` a run took (state `sending`) and held past its lease
    without recording it sent: the run died. Still members, at their primary address now."""
    return _recipients(period, after_id, limit, lambda delivered: (
        (delivered.state == "sending") & (delivered.lease <= now)))


def previous_cutoffs(member_ids: list[int], before: dt.datetime) -> dict[int, dt.datetime]:
    """When each member's previous digest (before the cutoff `before`) stopped: the next one starts there."""
    query = (DigestDelivery.select(DigestDelivery.member, fn.MAX(DigestDelivery.cutoff).alias("last"))
             .where(DigestDelivery.member.in_(member_ids), DigestDelivery.cutoff < before)
             .group_by(DigestDelivery.member).tuples())
    return {member_id: _datetime(last) for member_id, last in query}


def _datetime(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def new_listings(since: dt.datetime, until: dt.datetime) -> list:
    """Active listings posted in (since, until], with the poster and the poster's address."""
    query = (Listing.select(Listing, Member, Address.email.alias("poster_email"))
             .join(Member).join(Address, JOIN.LEFT_OUTER,
                                on=((Address.member == Member.id) & (Address.primary == True)))  # noqa: E712
             .where(Listing.created > since, Listing.created <= until, Listing.status == "active",
                    Listing.expires >= until.date())
             .order_by(Listing.kind, Listing.category, Listing.id))
    rows = list(query)
    for row in rows:
        # peewee puts a joined column's alias on the joined model; the digest wants it here.
        row.poster_email = getattr(row.member, "poster_email", None) or getattr(
            getattr(row.member, "address", None), "poster_email", None)
    return rows


def own_listings(member_ids: list[int], today: dt.date, warn_until: dt.date, expired_since: dt.date):
    """Per member: active offer/request counts, listings expiring soon, listings expired lately."""
    counts = defaultdict(lambda: {"offer": 0, "request": 0})
    expiring, expired = defaultdict(list), defaultdict(list)
    query = (Listing.select().where(Listing.member.in_(member_ids), Listing.status.in_(("active", "expired")),
                                    Listing.expires >= expired_since)
             .order_by(Listing.expires, Listing.id))
    for listing in query:
        if listing.status == "active" and listing.expires >= today:
            counts[listing.member_id][listing.kind] += 1
            if listing.expires <= warn_until:
                expiring[listing.member_id].append(listing)
        else:
            expired[listing.member_id].append(listing)
    return counts, expiring, expired


def summary(show_extremes: bool) -> dict:
    """The open bookkeeping of the group: members, and (if the group allows) balance extremes."""
    members = Member.select().where(Member.status.in_(TRADING))
    balances = (Account.select(Account.balance_cents).join(Member)
                .where(Member.status.in_(TRADING)))
    result = {"members": members.count(), "highest": None, "lowest": None}
    if show_extremes:
        result["highest"] = balances.select(fn.MAX(Account.balance_cents)).scalar()
        result["lowest"] = balances.select(fn.MIN(Account.balance_cents)).scalar()
    return result


def announcements(since: dt.datetime, until: dt.datetime) -> list[Announcement]:
    return list(Announcement.select().where(Announcement.mode == "digest", Announcement.created > since,
                                            Announcement.created <= until).order_by(Announcement.id))


def last_transfers(member_ids: list[int], since: dt.datetime, limit: int = 5) -> dict[int, list[dict]]:
    """Each member's last booked transfers since `since`, newest first, signed from the
    member's side: two queries for the whole batch."""
    accounts = {row.id: row.member_id for row in
                Account.select(Account.id, Account.member).where(Account.member.in_(member_ids))}
    found: dict[int, list[dict]] = defaultdict(list)
    if not accounts:
        return found
    booked = (Transfer.state == "booked") & (Transfer.booked >= since)
    for own, sign in ((Transfer.payer, -1), (Transfer.payee, 1)):
        for row in Transfer.select().where(booked, own.in_(list(accounts))):
            member_id = accounts[row.payer_id if sign < 0 else row.payee_id]
            found[member_id].append({"number": row.number, "date": row.booked.date(),
                                     "amount": sign * row.amount_cents, "description": row.description})
    for rows in found.values():
        rows.sort(key=lambda row: row["number"], reverse=True)
        del rows[limit:]
    return found


def volume(since: dt.datetime, until: dt.datetime) -> int:
    """Credit that changed hands between members in (since, until]: booked member-to-member
    transfers, without contributions, gifts to the fund, reversals and what they reversed."""
    payer, payee, reversal = Account.alias(), Account.alias(), Transfer.alias()
    reversed_ids = reversal.select(reversal.reverses).where(reversal.reverses.is_null(False))
    total = (Transfer.select(fn.SUM(Transfer.amount_cents))
             .join(payer, on=(Transfer.payer == payer.id)).switch(Transfer)
             .join(payee, on=(Transfer.payee == payee.id))
             .where(Transfer.state == "booked", Transfer.booked > since, Transfer.booked <= until,
                    payer.member.is_null(False), payee.member.is_null(False),
                    Transfer.reverses.is_null(), Transfer.id.not_in(reversed_ids))
             .scalar())
    return int(total or 0)


def pending_confirmations(member_ids: list[int], now: dt.datetime) -> dict[int, list[dict]]:
    """Per member: proposals still waiting for that member's JA/YES (the member pays)."""
    payer, payee = Account.alias(), Account.alias()
    query = (Transfer.select(Transfer, payer.member.alias("member_id"), payee.name.alias("payee_name"))
             .join(payer, on=(Transfer.payer == payer.id)).switch(Transfer)
             .join(payee, on=(Transfer.payee == payee.id))
             .where(Transfer.state == "pending", Transfer.expires > now, payer.member.in_(member_ids))
             .order_by(Transfer.created, Transfer.id).dicts())
    found: dict[int, list[dict]] = defaultdict(list)
    for row in query:
        found[row["member_id"]].append({"amount": row["amount_cents"], "payee": row["payee_name"],
                                        "description": row["description"], "created": row["created"],
                                        "expires": row["expires"]})
    return found
