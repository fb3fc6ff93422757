"""The association's sanctions by mail: a warning or a termination, the appeal's outcome,
and terminations taking effect on a clock (article 22, 5.5.3).

Each decision and its mail to the member (or, without email, their coordinator) go in one
transaction; the mail says the reason and the right to appeal within a month to the
general meeting.
"""
from __future__ import annotations

import datetime as dt

from db import sanctions, write_transaction
from db.models import Member, Sanction

from ..message.compose import Composer
from .membership import send

TEMPLATES = {"warning": "member/warned", "terminate": "member/terminated"}


def _context(sanction: Sanction) -> dict:
    return {"reason": sanction.reason, "kind": sanction.kind, "effective": sanction.effective,
            "appeal_until": sanction.appeal_until, "outcome": sanction.outcome}


def decide(settings, member: Member, kind: str, *, reason: str, now: dt.datetime, entered_by: str,
           effective: dt.date | None = None) -> Sanction:
    """`lets member warn` and `lets member terminate`: record, suspend for the appeal month
    (not for a warning), and tell the member."""
    with write_transaction():
        sanction = sanctions.decide(member, kind, reason=reason, now=now, entered_by=entered_by, effective=effective)
        send(settings, member, TEMPLATES[kind], _context(sanction))
    return sanction


def appeal(settings, member: Member, outcome: str, *, now: dt.datetime, entered_by: str) -> Sanction:
    """`lets member appeal`: the general meeting's outcome, and the member is told it."""
    with write_transaction():
        sanction = sanctions.appeal(member, outcome, now=now, entered_by=entered_by)
        if outcome != "lodged":
            send(settings, member, "member/appeal", {**_context(sanction), "status": member.status})
    return sanction


def review(settings, now: dt.datetime, composer: Composer | None = None) -> int:
    """Scheduled: terminations whose appeal month passed, or whose day came; nothing is mailed
    (the decision told the member both days)."""
    with write_transaction():
        sanctions.review(now)
    return 0
