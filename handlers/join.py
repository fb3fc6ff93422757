"""AANMELDEN Naam / JOIN Name / ADHÉRER Nom from a new address: an application.

The applicant is recorded (status `applicant`) and thanked in the language of the
command word; the administrators are told and decide with `lets member approve|refuse`.
A second application from the same address finds the applicant and is answered with
where the first one stands (handlers/dispatch.py), so nothing is duplicated.

Members are 18 or older (article 5.1): the applicant may say so on the command line
(`JOIN Jo Smith 18+`); otherwise the reply asks, and a later mail from the applicant that
answers ja/yes/oui, nee/no/non or 18+ is kept with the application (`answer`).
"""
from __future__ import annotations

import re

from db import members, membership

from . import Command, Context, Refusal, Reply
from .answers import answer as yes_or_no

MAX_NAME = 100
ADULT = re.compile(r"(?<![\w+])18\s*\+(?!\w)")


def handle(command: Command, ctx: Context) -> list[Reply]:
    if ctx.member is not None:
        raise Refusal("join/already")
    adult = True if ADULT.search(command.argument) else None
    name = " ".join(ADULT.sub(" ", command.argument).split()) \
        or " ".join(getattr(ctx.mail, "sender_name", "").split())
    if not name or len(name) > MAX_NAME or "@" in name:
        raise Refusal("join/no-name")
    language = command.language or ctx.settings.group.language
    try:
        applicant = membership.apply(name, ctx.sender, language=language, now=ctx.now, adult=adult)
    except members.MemberError:
        raise Refusal("join/no-name") from None
    context = {"name": applicant.name, "number": applicant.number, "address": ctx.sender, "adult": adult}
    told = [Reply("join/admin", context, to=admin, language=ctx.settings.group.language)
            for admin in ctx.settings.group.admins]
    return [Reply("join/received", context, language=language)] + told


def answer(command: Command, ctx: Context) -> list[Reply] | None:
    """An applicant's answer to "are you 18 or older?"; None when the mail says neither."""
    text = "\n".join(part for part in (command.argument, command.body,
                                        getattr(ctx.mail, "reply_text", "") or "") if part)
    said = "yes" if ADULT.search(text) else yes_or_no(text)
    if said is None:
        return None
    membership.say_adult(ctx.member, said == "yes")
    return [Reply("join/adult", {"name": ctx.member.name, "number": ctx.member.number, "adult": said == "yes"})]
