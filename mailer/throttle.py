"""Flooding: an address that sends more than `[inbound] max_per_hour` mails an hour is
told once and then ignored until the hour has passed, without slowing anyone else."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.models import InboundMessage, Notice


@dataclass(frozen=True)
class Throttled:
    reason: str
    notify: bool      # the one notice of this window is still due


def check(sender: str, now: dt.datetime, settings) -> Throttled | None:
    limit = settings.inbound.max_per_hour
    if not sender or limit <= 0:
        return None
    since = now - dt.timedelta(hours=1)
    recent = (InboundMessage.select().where(InboundMessage.sender == sender,
                                            InboundMessage.processed_at >= since).count())
    if recent < limit:
        return None
    notice, created = Notice.get_or_create(address=sender, kind="flood", defaults={"sent_at": now})
    notify = created or notice.sent_at < since
    if notify and not created:
        notice.sent_at = now
        notice.save()
    return Throttled(f"throttled: {recent} mails from this address in the last hour (limit {limit})", notify)
