"""AGENDAPUNT / AGENDA ITEM / POINT <text>: an item for the next general meeting's agenda (article 9.3).
AGENDA alone (the word members of every language write, with nothing after it) asks for
the coming activities instead.

"AGENDA ITEM" is two words; the command word is AGENDA and a leading ITEM is dropped from
the text, so "AGENDA ITEM: …", "AGENDA: …" and "AGENDAPUNT: …" all work. With nothing
after the word, the body is the item. Items are taken until one week before the meeting.
"""
from __future__ import annotations

import re

from db import activities, meetings

from . import Command, Context, Refusal, Reply
from .activity import activity_address

ITEM_WORD = re.compile(r"^\s*item\b\s*:?\s*", re.I)


def text_of(command: Command) -> str:
    argument = ITEM_WORD.sub("", command.argument) if command.language == "en" else command.argument
    return (argument.strip() or command.body.strip())[:meetings.MAX_ITEM_CHARS]


def handle(command: Command, ctx: Context) -> list[Reply]:
    name = ctx.member.name
    if command.language == "en" and not command.argument.strip() and not command.body.strip():
        return [Reply("activity/agenda", {"name": name, "activities": [
            {"title": a.title, "start": a.start, "place": a.place, "price": a.price_cents, "capacity": a.capacity,
             "free": activities.free(a), "signup": a.signup, "address": activity_address(a, ctx.settings)}
            for a in activities.coming(ctx.now)]})]
    meeting = meetings.upcoming(ctx.today)
    if meeting is None:
        raise Refusal("agenda/no-meeting", name=name)
    close = meetings.items_close(meeting)
    if ctx.today > close:
        raise Refusal("agenda/too-late", name=name, date=meeting.date, deadline=close)
    text = text_of(command)
    if not text:
        raise Refusal("agenda/empty", name=name, date=meeting.date, deadline=close)
    meetings.add_item(meeting, ctx.member, text, ctx.now)
    return [Reply("agenda/received", {"name": name, "date": meeting.date, "place": meeting.place,
                                      "deadline": close, "text": text})]
