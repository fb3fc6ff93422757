"""Mail loops with auto-responders that carry no automatic headers at all.

A vacation responder that sets neither Auto-Submitted nor X-Autoreply, nor an automatic
subject, slips past the guard. It answers our reply; its answer is no command, so we
would send help; it answers that, and so on. What tells it from a person is that it
says the same words every time. The rule that ends it: a mail that answers one of our
own mails, that we would only answer with "did not understand" (help, or a JA/NEE we
cannot read), and whose own words are the same as those of such a mail we answered
from this address within 24 hours, is recorded as ignored. A person who answers again
in other words ("misschien later", then "weet ik nog niet") is answered every time.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re

from db.models import Notice
from handlers.answers import answer

WINDOW = dt.timedelta(hours=24)


def ours(message_ids, settings) -> bool:
    """A Message-ID we made: make_msgid("lets", domain=the group's domain)."""
    own = re.compile(r"\.lets@" + re.escape(settings.group.domain) + r">$", re.I)
    return any(own.search(value) for value in message_ids)


def answers_us(inbound, command, settings) -> bool:
    # A mail to a token plus address answers our confirmation by construction.
    return command.kind == "consent" or ours(inbound.in_reply_to.split() + list(inbound.references), settings)


def not_understood(command) -> bool:
    return command.kind == "unknown" or (command.kind == "consent" and answer(command.body) is None)


def check(understood, now: dt.datetime, settings) -> str | None:
    """The reason to stay silent, or None when a reply is due."""
    inbound, commands = understood.inbound, understood.commands or []
    if len(commands) != 1 or not not_understood(commands[0]) or not answers_us(inbound, commands[0], settings):
        return None
    # Its first paragraph: a responder that copies our mail below its own words,
    # unquoted, still says the same first.
    first = inbound.reply_text.strip().split("\n\n", 1)[0]
    words = " ".join(" ".join(first.lower().splitlines()[:3]).split())
    kind = "unclear:" + hashlib.sha256(words.encode()).hexdigest()[:22]
    notice, created = Notice.get_or_create(address=inbound.sender, kind=kind, defaults={"sent_at": now})
    if created or notice.sent_at <= now - WINDOW:
        notice.sent_at = now
        notice.save()
        return None
    return ("an answer to our own mail that we do not understand, in the same words as one we "
            "answered within 24 hours: an auto-responder without automatic headers?")
