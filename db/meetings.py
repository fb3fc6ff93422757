"""The general meeting (article 9.3): who is invited, the notice it needs, and its agenda items.

Every member may vote, a suspended one too; applicants and former or expelled members
may not. The invitation goes out at least 14 days ahead (unless the core group chooses
short notice), and members send agenda items until one week before the meeting.
"""
from __future__ import annotations

import datetime as dt

from .models import Meeting, MeetingItem, MeetingNotice, Member

VOTING_STATUSES = ("active", "leaving", "suspended")
NOTICE_DAYS = 14
ITEMS_CLOSE_DAYS = 7
MAX_ITEM_CHARS = 2000


class MeetingError(Exception):
    """The core group's mistake: nothing was recorded."""


def announce(date: dt.date, place: str, agenda: str, *, today: dt.date, short_notice: bool,
             entered_by: str) -> tuple[Meeting, bool]:
    """(the meeting, whether it is new). A meeting already announced for that day is
    taken up again as it was, so that a rerun finishes the mailing and mails nobody twice."""
    found = Meeting.get_or_none(Meeting.date == date)
    if found is not None:
        if agenda.strip() != found.body or (place.strip() and place.strip() != found.place):
            raise MeetingError(f"the meeting of {date} was already announced with another place or agenda")
        return found, False
    if date <= today:
        raise MeetingError(f"the meeting of {date} is not in the future")
    if (date - today).days < NOTICE_DAYS and not short_notice:
        raise MeetingError(f"the meeting of {date} is {(date - today).days} days away, less than the "
                           f"{NOTICE_DAYS} days' notice of article 9.3 (add --short-notice to announce it anyway)")
    meeting = Meeting.create(date=date, place=place.strip(), body=agenda.strip(), short_notice=short_notice,
                             entered_by=entered_by)
    return meeting, True


def uninvited(meeting: Meeting) -> list[Member]:
    """The members who may vote and were not told of `meeting` yet."""
    told = MeetingNotice.select(MeetingNotice.member).where(MeetingNotice.meeting == meeting)
    return list(Member.select().where(Member.status.in_(VOTING_STATUSES), Member.id.not_in(told))
                .order_by(Member.number))


def invited(meeting: Meeting, member: Member) -> None:
    MeetingNotice.create(meeting=meeting, member=member)


def items_close(meeting: Meeting) -> dt.date:
    """The last day an agenda item is taken."""
    return meeting.date - dt.timedelta(days=ITEMS_CLOSE_DAYS)


def upcoming(today: dt.date) -> Meeting | None:
    """The next meeting, today's included."""
    return Meeting.select().where(Meeting.date >= today).order_by(Meeting.date).first()


def add_item(meeting: Meeting, member: Member, text: str, now: dt.datetime) -> MeetingItem:
    return MeetingItem.create(meeting=meeting, member=member, body=text[:MAX_ITEM_CHARS], created=now)


def items(meeting: Meeting) -> list[MeetingItem]:
    return list(MeetingItem.select(MeetingItem, Member).join(Member).where(MeetingItem.meeting == meeting)
                .order_by(MeetingItem.created, MeetingItem.id))
