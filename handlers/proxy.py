"""VOOR / FOR / POUR / FÜR <member>: a coordinator trades for a member who has no email.

The first line names the member, the next line is the command (BETAAL, FACTUUR,
SCHENK or SALDO and their translations). The confirmation token of a payment goes to
the coordinator's own mailbox, so a forged coordinator address still moves nothing;
receipts and statements of the member go to the coordinator and name who entered it.
An invoice the coordinator writes for the member waits for the coordinator's own
tokened JA, then goes to its payer, whose JA books it (handlers/proxy_invoice.py).
"""
from __future__ import annotations

import re

from db.members import normalise_address

from . import Command, Context, Refusal, Reply
from . import balance, trade
from .commands import fold, match, strip_reply_prefix

WORDS = {"voor": "nl", "for": "en", "pour": "fr", "fur": "de", "fuer": "de"}
PROXY_LINE = re.compile(r"^\s*(voor|for|pour|für|fuer)\s+([^\n]+?)\s*:?\s*$", re.I)
INNER = ("pay", "invoice", "donate", "balance")


def recognise(inbound) -> Command | None:
    """A proxy command only when a trade or balance command follows the VOOR line, so a
    reply that starts "For what it's worth" is not taken for one."""
    subject, _ = strip_reply_prefix(inbound.subject)
    text = inbound.reply_text.strip()
    first, _, rest = text.partition("\n")
    for line, following in ((first, rest), (subject, text)):
        found = PROXY_LINE.match(line)
        if not found:
            continue
        hit = match(following.strip().split("\n", 1)[0])
        if hit and hit[0] in INNER:
            return Command("proxy", WORDS[fold(found.group(1))], found.group(2), following.strip())
    return None


def is_coordinator(address: str, settings) -> bool:
    return normalise_address(address) in {normalise_address(a) for a in settings.trades.coordinators}


def handle(command: Command, ctx: Context) -> list[Reply]:
    if not is_coordinator(ctx.sender, ctx.settings):
        raise Refusal("proxy/not-coordinator", who=command.argument[:80])
    member = trade.counterparty(command.argument, ctx)
    if member.primary_address:
        raise Refusal("proxy/has-address", name=member.name)
    if member.status not in ("active", "leaving"):
        raise Refusal("trade/inactive", name=member.name, status=member.status)
    first, _, body = command.body.partition("\n")
    kind, language, argument = match(first)
    inner = Command(kind, language, argument, body.strip())
    acting = Context(settings=ctx.settings, sender=ctx.sender, member=member, inbound=ctx.inbound,
                     now=ctx.now, mail=ctx.mail)
    if kind == "balance":
        return [_on_behalf(reply, member.name) for reply in balance.handle(inner, acting)]
    entered_by = f"{ctx.member.name} <{normalise_address(ctx.sender)}>"
    return trade.handle(inner, acting, entered_by=entered_by)


def _on_behalf(reply: Reply, name: str) -> Reply:
    reply.context["on_behalf"] = name
    return reply
