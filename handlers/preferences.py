"""DIGEST / RÉSUMÉ / ÜBERSICHT, TAAL / LANGUAGE / LANGUE / SPRACHE, ALLEEN / ONLY / SEULEMENT / NUR:
a member's choices."""
from __future__ import annotations

from db.models import LANGUAGES, MemberPreference

from . import Command, Context, Refusal, Reply
from .commands import fold

# The words for each digest frequency, compared without case and accents.
FREQUENCIES = {
    "weekly": ("wekelijks", "weekly", "week", "hebdomadaire", "semaine", "wochentlich", "woechentlich", "woche"),
    "daily": ("dagelijks", "daily", "dag", "day", "quotidien", "jour", "taglich", "taeglich", "tag"),
    "instant": ("direct", "instant", "immediately", "immediat", "immediate", "sofort", "direkt"),
    "off": ("uit", "off", "geen", "none", "stop", "aucun", "aucune", "aus", "keine", "nie"),
}
FREQUENCY = {word: name for name, words in FREQUENCIES.items() for word in words}
# ALLEEN ALLES / ONLY ALL / SEULEMENT TOUT: every category again.
ALL = ("alles", "all", "tout", "tous", "toutes", "alle")
# A language named rather than given as its code: TAAL Duits, LANGUAGE German, SPRACHE
# Deutsch. Otherwise the first two letters are the code ("English", "français").
LANGUAGE_NAMES = {
    "nederlands": "nl", "dutch": "nl", "neerlandais": "nl", "niederlandisch": "nl", "hollands": "nl",
    "engels": "en", "english": "en", "anglais": "en", "englisch": "en",
    "frans": "fr", "french": "fr", "francais": "fr", "franzosisch": "fr",
    "duits": "de", "german": "de", "allemand": "de", "deutsch": "de",
}


def handle(command: Command, ctx: Context) -> list[Reply]:
    return {"digest": digest, "language": language, "only": only}[command.kind](command, ctx)


def digest(command: Command, ctx: Context) -> list[Reply]:
    choice = FREQUENCY.get(fold(command.argument).strip())
    if choice is None:
        raise Refusal("preferences/digest-unknown", given=command.argument[:40])
    ctx.member.digest = choice
    ctx.member.save()
    return [Reply("preferences/digest-set", {"choice": choice})]


def language(command: Command, ctx: Context) -> list[Reply]:
    given = fold(command.argument).strip()
    choice = LANGUAGE_NAMES.get(given, given[:2])
    if choice not in LANGUAGES:
        raise Refusal("preferences/language-unknown", given=command.argument[:40])
    ctx.member.language = choice
    ctx.member.save()
    # The confirmation is already in the new language: the reader just chose it.
    return [Reply("preferences/language-set", {"choice": choice}, language=choice)]


def only(command: Command, ctx: Context) -> list[Reply]:
    """The categories are named in any language and stored as codes; one we do not know
    changes nothing, and the reply lists the group's categories."""
    table = ctx.settings.listings.categories
    named = [part.strip() for part in command.argument.split(",") if part.strip()]
    named = [part for part in named if fold(part) not in ALL]
    found = {part: table.find(part) for part in named}
    unknown = [part[:40] for part, code in found.items() if code is None]
    if unknown:
        raise Refusal("preferences/only-unknown", unknown=unknown[:10], categories=table.codes)
    codes = [code for code in table.codes if code in found.values()]
    preference, _ = MemberPreference.get_or_create(member=ctx.member)
    preference.categories = ",".join(codes)
    preference.save()
    # only-set joins the names as they are: in the member's language, which it is written in.
    return [Reply("preferences/only-set", {"categories": [table.name(code, ctx.member.language) for code in codes]})]
