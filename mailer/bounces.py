"""Bounces to an address's VERP return path (group+b-TOKEN@…): count them, stop at the limit.

flufl.bounce reads the delivery status notification; only permanent failures count
(a full mailbox or a greylisting delay is temporary and says nothing about the
address). At `[digest] bounce_limit` the address is marked failing, bulk mail to it
stops, and the administrators are told once.
"""
from __future__ import annotations

from flufl.bounce import all_failures

from db.models import Address, Bounce, Member

from .outbound.outbox import enqueue


def receive(settings, address: Address, understood, row, processor, now) -> tuple[str, str, str]:
    try:
        _temporary, permanent = all_failures(understood.inbound.message)
    except Exception:
        permanent = frozenset()
    if not permanent:
        return "ignored", "bounce", f"temporary or unreadable bounce for {address.email}"
    Bounce.create(address=address, inbound=row, received=now)
    count = Bounce.select().where(Bounce.address == address).count()
    limit = settings.digest.bounce_limit
    if count < limit or address.failing:
        return "ignored", "bounce", f"hard bounce {count}/{limit} for {address.email}"
    address.failing = True
    address.save()
    member = Member.get_by_id(address.member_id)
    composer = processor.composer
    for admin in settings.group.admins:
        enqueue(composer.compose("bounces/failing", settings.group.language,
                                 {"member": member, "address": address.email, "count": count},
                                 to=admin, kind="bounces/failing"), inbound=row)
    return "processed", "bounce", f"{address.email} marked failing after {count} hard bounces"
