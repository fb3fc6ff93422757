"""AANMELDEN Naam / JOIN Name / ADHÉRER Nom from a new address: an application.

The applicant is recorded (status `applicant`) and thanked in the language of the
command word; the administrators are told and decide with `lets member approve|refuse`.
A second application from the same address finds the applicant and is answered with
where the first one stands (handlers/dispatch.py), so nothing is duplicated.
"""
from __future__ import annotations

from db import members, membership

from . import Command, Context, Refusal, Reply

MAX_NAME = 100


def handle(command: Command, ctx: Context) -> list[Reply]:
    if ctx.member is not None:
        raise Refusal("join/already")
    name = " ".join(command.argument.split()) or " ".join(getattr(ctx.mail, "sender_name", "").split())
    if not name or len(name) > MAX_NAME or "@" in name:
        raise Refusal("join/no-name")
    language = command.language or ctx.settings.group.language
    try:
        applicant = membership.apply(name, ctx.sender, language=language, now=ctx.now)
    except members.MemberError:
        raise Refusal("join/no-name") from None
    context = {"name": applicant.name, "number": applicant.number, "address": ctx.sender}
    told = [Reply("join/admin", context, to=admin, language=ctx.settings.group.language)
            for admin in ctx.settings.group.admins]
    return [Reply("join/received", context, language=language)] + told
