"""BEZWAAR / OBJECT / OBJECTION <reason>: a member objects to the coming contribution.

The objection is forwarded to the administrators, who may waive it before the run
(`lets contributions waive`); the member is told it was forwarded. Only a member who
received this period's advance notice can object: from anyone else "Object lost" is a
sentence, not an objection, and gets the help mail like any mail not understood."""
from __future__ import annotations

from db import contributions

from . import Command, Context, Refusal, Reply
from . import help


def handle(command: Command, ctx: Context) -> list[Reply]:
    period = contributions.period_of(ctx.today, ctx.settings.contributions.period)
    if not contributions.was_notified(ctx.member, period):
        return help.handle(Command("unknown", command.language, "", command.body), ctx)
    # The reason is the rest of the command line: the quoted notice below it is not part of it.
    reason = " ".join(command.argument.split())
    if not reason:
        raise Refusal("objection/no-reason")
    context = {"period": period.label, "reason": reason[:2000], "name": ctx.member.name,
               "number": ctx.member.number, "address": ctx.sender}
    replies = [Reply("objection/forwarded", context, to=admin, language=ctx.settings.group.language)
               for admin in ctx.settings.group.admins]
    return replies + [Reply("objection/received", context)]
