"""Flooding: an address that sends more than `[inbound] max_per_hour` mails an hour is
told once and then ignored until the hour has passed, without slowing anyone else."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import fn

from db.models import InboundMessage, Notice
from db.prepared import Prepared


# Asked for every mail: the SQL is made once (db/prepared.py). Counted per From address
# and envelope sender together: anyone can forge a member's From, so mail forged from
# another envelope fills its own count, not the member's (and a member's tokened answer
# to our mail is never counted against: mailer/pipeline.py).
_recent = Prepared(lambda sender, mail_from, since: InboundMessage.select(fn.COUNT(InboundMessage.id)).where(
    InboundMessage.sender == sender, fn.COALESCE(InboundMessage.mail_from, "") == mail_from,
    InboundMessage.processed_at >= since), 3)


@dataclass(frozen=True)
class Throttled:
    reason: str
    notify: bool      # the one notice of this window is still due


def check(sender: str, now: dt.datetime, settings, mail_from: str | None = None) -> Throttled | None:
    limit = settings.inbound.max_per_hour
    if not sender or limit <= 0:
        return None
    since = now - dt.timedelta(hours=1)
    recent = _recent.scalar(sender, mail_from or "", since)
    if recent < limit:
        return None
    notice, created = Notice.get_or_create(address=sender, kind="flood", defaults={"sent_at": now})
    notify = created or notice.sent_at < since
    if notify and not created:
        notice.sent_at = now
        notice.save()
    return Throttled(f"throttled: {recent} mails from this address in the last hour (limit {limit})", notify)
