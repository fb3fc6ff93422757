"""AAN ALLEN: / TO ALL: / À TOUS: / AN ALLE: <subject> from an administrator: an announcement to every member.

Administrators are the addresses in [group] admins. A From: line is easily forged, so
nothing goes out on the first mail: the administrator's own mailbox gets a preview with
a single-use token (as a payer does for a payment, handlers/consent.py) and the
announcement is published only when a JA/YES/OUI comes back from that address with
the token. The first body line, or a word after the JA, may choose DIGEST (in the next
digest) or NU/NOW/MAINTENANT (at once); otherwise [announce] mode decides.
"""
from __future__ import annotations

import re

from db import announcements
from db.members import normalise_address

from . import Command, Context, Refusal, Reply, nonmember
from .commands import fold
from .answers import NO, YES, find_token

PHRASES = {"aan allen": "nl", "to all": "en", "a tous": "fr", "an alle": "de"}
START = re.compile(r"^\s*(aan\s+allen|to\s+all|a\s+tous|an\s+alle)\s*:\s*(.*)$", re.S)
MODE_WORDS = {
    "digest": ("digest", "overzicht", "resume", "ubersicht", "uebersicht"),
    "now": ("nu", "direct", "meteen", "now", "maintenant", "immediat", "jetzt", "sofort"),
}
MODE = {word: mode for mode, words in MODE_WORDS.items() for word in words}


def recognise(inbound, settings) -> Command | None:
    """An announcement (in the subject, or the first body line under an empty subject)
    or the answer to one (a mail carrying an `a` token)."""
    token = find_token(inbound, settings, prefix="a")
    if token:
        return Command("announce-consent", None, token, inbound.reply_text)
    text = inbound.reply_text.strip()
    first, _, rest = text.partition("\n")
    for line, body in ((inbound.subject, text), (first, rest) if not inbound.subject.strip() else ("", "")):
        found = START.match(fold(line)) if line else None
        if found:
            phrase = " ".join(found.group(1).split())
            subject = " ".join(line.split(":", 1)[1].split())
            return Command("announce", PHRASES[phrase], subject, body.strip())
    return None


def is_admin(ctx: Context) -> bool:
    return normalise_address(ctx.sender) in {normalise_address(a) for a in ctx.settings.group.admins}


def _mode(words: list[str], default: str) -> str | None:
    """The mode a word chooses, the default without one, None for a word we don't know."""
    if not words:
        return default
    return MODE.get(words[0]) if len(words) == 1 else None


def handle(command: Command, ctx: Context) -> list[Reply]:
    if not is_admin(ctx):
        if ctx.member is None:
            return nonmember.handle(command, ctx)
        raise Refusal("announce/not-admin")
    settings = ctx.settings
    subject = command.argument[:200]
    first, _, rest = command.body.partition("\n")
    chosen = MODE.get(fold(re.sub(r"[^\w\s]", " ", first)).strip()) if first.strip() else None
    body = (rest if chosen else command.body).strip()
    if not subject or not body:
        raise Refusal("announce/incomplete", subject=subject)
    mode = chosen or settings.announce.mode
    draft, token = announcements.draft(ctx.sender, subject, body, mode, command.language or "nl",
                                       now=ctx.now, days=settings.announce.confirm_days)
    group = settings.group
    return [Reply("announce/confirm", {
        "subject": subject, "body": body, "mode": mode, "token": token, "expires": draft.expires,
        "audience": announcements.audience()}, headers={"Reply-To": f"{group.local_part}+a-{token}@{group.domain}"})]


def confirm(command: Command, ctx: Context) -> list[Reply]:
    """The administrator's JA/NEE to a draft: published once, only from the address it went to."""
    if not is_admin(ctx):
        if ctx.member is None:
            return nonmember.handle(command, ctx)
        raise Refusal("announce/not-admin")
    draft = announcements.find_draft(command.argument)
    if draft is None or normalise_address(ctx.sender) != draft.address:
        raise Refusal("announce/unknown")
    if draft.used is not None:
        raise _refusal("announce/already", draft)
    if draft.expires <= ctx.now:
        raise _refusal("announce/expired", draft)
    first = command.body.strip().split("\n", 1)[0] if command.body.strip() else ""
    words = fold(re.sub(r"[^\w\s]", " ", first)).split()
    mode = _mode(words[1:], draft.mode) if words else None
    if not words or words[0] not in YES | NO or mode is None:
        raise _refusal("announce/unclear", draft)
    if not announcements.use_draft(draft, ctx.now):
        raise _refusal("announce/already", draft)
    if words[0] in NO:
        return [Reply("announce/cancelled", {"subject": draft.subject}, language=draft.language)]
    published = announcements.publish(draft.subject, draft.body, mode, ctx.now)
    draft.announcement = published
    draft.save()
    return [Reply("announce/confirmed", {"subject": draft.subject, "mode": mode,
                                         "audience": announcements.audience()}, language=draft.language)]


def _refusal(template: str, draft) -> Refusal:
    """A refusal in the language the administrator wrote the announcement in."""
    refusal = Refusal(template, subject=draft.subject)
    refusal.reply.language = draft.language
    return refusal
