"""Where a mail about one member goes: their own address, else their coordinator, else nowhere.

Most groups have members who trade on paper. What the scheduled runs and the
administrators' commands tell such a member (a contribution charged, a euro notice, a
reminder, a fine, a settlement) goes to the coordinator who confirms for them (a named one
in `[trades] coordinators`, db/coordinators.py), wrapped in a mail that asks to pass it on;
with no coordinator nothing is mailed, and the run goes on with the next member.
"""
from __future__ import annotations

from db import coordinators
from db.models import Member
from handlers import Reply

from ..message.compose import Composer

PASS_ON = "proxy/pass-on"


def about(member: Member, template: str, context: dict, settings,
          composer: Composer | None = None) -> Reply | None:
    """The mail `template` for `member`, or None when nobody can read it for them.

    To the member's own address in their language; for a member without email, the same
    mail rendered in the member's language inside a pass-on mail to their coordinator."""
    address = member.primary_address
    if address:
        return Reply(template, context, to=address, language=member.language)
    coordinator = coordinators.for_member(member, settings.trades.coordinators)
    if coordinator is None:
        return None
    composer = composer or Composer(settings)
    subject, text, _ = composer.render(template, member.language,
                                       {"name": member.name, "number": member.number, **context})
    return Reply(PASS_ON, {"name": member.name, "number": member.number, "subject": subject, "body": text},
                 to=coordinator)
