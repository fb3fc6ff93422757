"""A handler's Reply as a composed mail in the outbox, for the pipeline (which answers an
inbound mail) and for the runs and commands that mail members by themselves (an activity
approved by the core group): the bulk envelope of mail to many, and an activity's
calendar invitation for the one address it goes to."""
from __future__ import annotations

from db import members
from db.models import Activity, Address, OutboundMessage
from handlers import Reply

from ..message.calendar import invitation
from ..message.compose import Composer
from ..message.subaddress import bulk_envelope
from .outbox import enqueue


def compose(settings, composer: Composer, reply: Reply, *, to: str, language: str, parent=None):
    """The Outgoing for `reply` to `to` in `language`; `parent` the (Message-ID, References) it answers."""
    headers, mail_from = reply.headers, None
    if reply.bulk:
        address = Address.get_or_none(Address.email == to.lower())
        if address is not None:
            extra, mail_from = bulk_envelope(settings, address.id)
            headers = {**extra, **headers}
    calendar = None
    if reply.calendar is not None:
        method, activity_id, sequence = reply.calendar
        calendar = (method, invitation(settings, Activity.get_by_id(activity_id), method, to, sequence))
    return composer.compose(reply.template, language, reply.context, to=to, reply_to_message=parent,
                            kind=reply.template, headers=headers, mail_from=mail_from, calendar=calendar)


def queue(settings, replies: list[Reply], composer: Composer | None = None) -> list[OutboundMessage]:
    """Mails that answer no inbound mail, each to its `to`, in the recipient member's
    language (else the reply's, else the group's)."""
    composer = composer or Composer(settings)
    queued = []
    for reply in replies:
        recipient = members.by_address(reply.to)
        language = (recipient.language if recipient else None) or reply.language or settings.group.language
        queued.append(enqueue(compose(settings, composer, reply, to=reply.to, language=language,
                                      parent=reply.answers)))
    return queued
