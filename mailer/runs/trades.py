"""Trades outside an inbound mail: reminders and expiry for the scheduler, and
an administrator's entry. Each changes the ledger and queues its mails in one transaction."""
from __future__ import annotations

import datetime as dt

from db import database, ledger, members
from db.models import Account
from handlers import Reply
from handlers import receipt
from handlers.trade import token_headers

from ..message.compose import Composer
from ..outbound.outbox import enqueue


def queue(replies: list[Reply], settings, composer: Composer | None = None) -> int:
    """Compose and put in the outbox mails that answer no inbound mail (a receipt may still
    answer the invoice its payee sent: `Reply.answers`)."""
    composer = composer or Composer(settings)
    for reply in replies:
        recipient = members.by_address(reply.to)
        language = (recipient.language if recipient else None) or reply.language or settings.group.language
        enqueue(composer.compose(reply.template, language, reply.context, to=reply.to,
                                 reply_to_message=reply.answers, kind=reply.template, headers=reply.headers))
    return len(replies)


def expire(settings, now: dt.datetime) -> tuple[int, int]:
    """Remind payers once, then expire what stayed unanswered, and open invoices that
    found no room in `[trades] open_days`; (reminded, expired)."""
    with database.atomic():
        replies = []
        reminded = ledger.due_reminders(now, settings.trades.reminder_days)
        for transfer in reminded:
            address = ledger.token_address(transfer)
            # Only hashes are stored, so a reminder carries a fresh token of its own.
            days = max(1, (transfer.expires - now).days + 1)
            token = ledger.issue_token(transfer, address, now=now, days=days)
            replies.append(receipt.reminder(transfer, token, token_headers(settings, token)))
        expired = ledger.expire_pending(now)
        for transfer in expired:
            replies += receipt.expired(transfer)
        stale = ledger.expire_open(now, settings.trades.open_days)
        for transfer in stale:
            replies += receipt.open_expired(transfer, settings.trades.open_days)
        drafts = ledger.expire_drafts(now)
        for transfer in drafts:
            replies += receipt.draft_expired(transfer)
        # An expired invoice may have held younger ones back in its queue.
        for transfer in ledger.settle_waiting(limits=settings.limits, now=now):
            replies += receipt.booked(transfer, settings, now)
        queue(replies, settings)
    return len(reminded), len(expired) + len(stale) + len(drafts)


def account_for(key: str) -> Account:
    """A member's account by number or address, or a system account by code."""
    system = Account.get_or_none(Account.code == key)
    if system is not None:
        return system
    member = members.by_number_or_address(key)
    if member is None:
        raise ledger.LedgerError("unknown-member", who=key)
    return members.account(member)


def enter(settings, payer_key: str, payee_key: str, amount_cents: int, description: str, *,
          now: dt.datetime, entered_by: str) -> ledger.Booking:
    """An administrator's trade, booked at once and reported to both parties by mail."""
    with database.atomic():
        booking = ledger.transfer_now(account_for(payer_key), account_for(payee_key), amount_cents,
                                      description, limits=settings.limits, now=now, entered_by=entered_by)
        queue(receipt.receipts(booking, settings, now), settings)
    return booking


def reverse(settings, number: int, *, now: dt.datetime, entered_by: str) -> ledger.Booking:
    with database.atomic():
        booking = ledger.reverse(number, now=now, entered_by=entered_by, limits=settings.limits)
        queue(receipt.receipts(booking, settings, now), settings)
    return booking
