"""The general meeting's invitation (article 9.3): every member who may vote, one mail each.

Each member's mail and the row that says they were told go in one transaction, so an
interrupted run, rerun, mails only those it had not reached. A member on paper is told
through their coordinator (mailer/runs/member_mail.py); with no coordinator, nobody.
"""
from __future__ import annotations

from db import coordinators, meetings, write_transaction
from db.models import Meeting

from ..message.compose import Composer
from .membership import send

TEMPLATE = "meeting/invitation"


def context(meeting: Meeting) -> dict:
    return {"date": meeting.date, "place": meeting.place, "agenda": meeting.body,
            "deadline": meetings.items_close(meeting)}


def invite(settings, meeting: Meeting, composer: Composer | None = None) -> tuple[int, int]:
    """(mailed, unreachable): the invitation to every voting member not yet told."""
    composer = composer or Composer(settings)
    mailed = unreachable = 0
    for member in meetings.uninvited(meeting):
        with write_transaction():
            meetings.invited(meeting, member)
            if member.primary_address or coordinators.for_member(member, settings.trades.coordinators):
                send(settings, member, TEMPLATE, context(meeting), composer)
                mailed += 1
            else:
                unreachable += 1
    return mailed, unreachable
