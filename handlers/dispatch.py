"""Which handler answers which kind of command, and who may use it."""
from __future__ import annotations

from db import meetings

from . import Command, Context, Reply
from . import announce, balance, consent, help, list, listing, mine, nonmember, objection, preferences, renew, respond, trade, withdraw
from . import activity, agenda, books, cancel, claim, join, proxy, refuse

HANDLERS = {
    "offer": listing.handle,
    "request": listing.handle,
    "withdraw": withdraw.handle,
    "renew": renew.handle,
    "list": list.handle,
    "mine": mine.handle,
    "balance": balance.handle,
    "books": books.handle,
    "help": help.handle,
    "unknown": help.handle,
    "pay": trade.handle,
    "invoice": trade.handle,
    "donate": trade.handle,
    "consent": consent.handle,
    "digest": preferences.handle,
    "language": preferences.handle,
    "only": preferences.handle,
    "respond": respond.handle,
    "objection": objection.handle,
    "join": join.handle,
    "cancel": cancel.handle,
    "claim": claim.handle,
    "proxy": proxy.handle,
    "announce": announce.handle,
    "announce-consent": announce.confirm,
    "cancel-confirm": cancel.confirm,
    "refuse": refuse.handle,
    "agenda": agenda.handle,
    "activity": activity.handle,
    "activity-publish": activity.publish,
    "activity-reply": activity.reply,
}

# Kinds whose handler decides itself who may use them: administrators need not be members.
ADMIN_KINDS = ("announce", "announce-consent")
# Kinds whose handler tells a non-member or an inactive member itself, in the activity's words.
OWN_CHECK_KINDS = ("activity", "activity-publish", "activity-reply")

# Members in these states may use every command; others get an explanation.
TRADING_STATUSES = ("active", "leaving")

# Kinds every member who may vote at the general meeting may use, a suspended one too.
VOTING_KINDS = {"agenda": meetings.VOTING_STATUSES}


def handle(command: Command, ctx: Context) -> list[Reply]:
    """The replies for `command`; a Refusal raised here carries a reply too."""
    if command.kind in ADMIN_KINDS or command.kind in OWN_CHECK_KINDS:
        return HANDLERS[command.kind](command, ctx)
    if ctx.member is None:
        return nonmember.handle(command, ctx)
    if ctx.member.status not in VOTING_KINDS.get(command.kind, TRADING_STATUSES):
        # An applicant's mail may answer the application's question (18 or older?).
        answered = join.answer(command, ctx) if ctx.member.status == "applicant" else None
        return answered or [Reply("member/inactive", {"status": ctx.member.status})]
    return HANDLERS[command.kind](command, ctx)
