"""Announcements: drafts confirmed by a tokened reply, and who still needs one sent at once."""
from __future__ import annotations

import datetime as dt

from peewee import JOIN

from . import tokens
from .members import normalise_address
from .models import Address, Announcement, AnnouncementDelivery, AnnouncementDraft, Member

TRADING = ("active", "leaving")
MODES = ("now", "digest")


def draft(address: str, subject: str, body: str, mode: str, language: str, *, now: dt.datetime,
          days: int) -> tuple[AnnouncementDraft, str]:
    """A draft and its single-use token (db/tokens.py: only the SHA-256 is stored)."""
    token = tokens.new()
    row = AnnouncementDraft.create(digest=tokens.digest(token), address=normalise_address(address), language=language,
                                   subject=subject, body=body, mode=mode, created=now,
                                   expires=now + dt.timedelta(days=days))
    return row, token


def find_draft(token: str) -> AnnouncementDraft | None:
    return AnnouncementDraft.get_or_none(AnnouncementDraft.digest == tokens.digest(token))


def use_draft(row: AnnouncementDraft, now: dt.datetime) -> bool:
    """Mark a draft answered; False when it was answered already (a replay or a race)."""
    return tokens.spend(AnnouncementDraft, row, now)


def publish(subject: str, body: str, mode: str, now: dt.datetime) -> Announcement:
    """An announcement for every member: in the digests whose period covers `now`, or sent at once."""
    assert mode in MODES
    return Announcement.create(subject=subject, body=body, mode=mode, created=now)


def unsent() -> list[Announcement]:
    """Announcements to send at once whose fan-out has not finished (new, or cut short by a crash)."""
    return list(Announcement.select().where(Announcement.mode == "now", Announcement.sent.is_null())
                .order_by(Announcement.id))


def due(announcement: Announcement, after_id: int, limit: int) -> list[Member]:
    """The next `limit` members (by id) who have not had `announcement`, each with `.email`
    and `.address_id`. Members who turned bulk mail off (DIGEST UIT, unsubscribed) get none."""
    delivered = AnnouncementDelivery.alias()
    return list(Member.select(Member, Address.id.alias("address_id"), Address.email.alias("email"))
                .join(Address).switch(Member)
                .join(delivered, JOIN.LEFT_OUTER, on=((delivered.member == Member.id)
                                                      & (delivered.announcement == announcement.id)))
                .where(Member.id > after_id, Member.status.in_(TRADING), Member.digest != "off",
                       Address.primary == True, Address.failing == False,  # noqa: E712
                       delivered.id.is_null())
                .order_by(Member.id).limit(limit).objects())


def readers() -> list[Member]:
    """Every member bulk mail reaches (as `due`, all at once), each with `.email`: an
    activity's mail goes to them when its organiser publishes it."""
    return list(Member.select(Member, Address.email.alias("email")).join(Address)
                .where(Member.status.in_(TRADING), Member.digest != "off", Address.primary == True,  # noqa: E712
                       Address.failing == False).order_by(Member.id).objects())  # noqa: E712


def audience() -> int:
    """How many members an announcement sent now would reach."""
    return (Member.select().join(Address)
            .where(Member.status.in_(TRADING), Member.digest != "off", Address.primary == True,  # noqa: E712
                   Address.failing == False).count())  # noqa: E712
