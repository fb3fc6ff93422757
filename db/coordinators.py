"""Who confirms an invoice for a member without email: a coordinator's own mailbox.

The coordinator an administrator named for the member (`lets member set-coordinator`)
comes first; without one, the coordinator who last entered a trade for the member with
VOOR / FOR / POUR. Either counts only while the address is still in `[trades]
coordinators`, so removing a coordinator from the settings stops their tokens at once.
"""
from __future__ import annotations

import re

from .members import account, by_address, normalise_address
from .models import Member, MemberCoordinator, Transfer

# entered_by of a coordinator's entry: "Cor Dinator <coord@example.org>".
ENTERED = re.compile(r"<([^<>\s]+@[^<>\s]+)>$")
# The last coordinator is looked for in the member's recent entries only.
RECENT = 50


def name(member: Member, address: str) -> None:
    """Name `address` as the member's coordinator (one per member; a new one replaces it)."""
    address = normalise_address(address)
    updated = MemberCoordinator.update(address=address).where(MemberCoordinator.member == member).execute()
    if not updated:
        MemberCoordinator.create(member=member, address=address)


def unname(member: Member) -> int:
    return MemberCoordinator.delete().where(MemberCoordinator.member == member).execute()


def for_member(member: Member, coordinators) -> str | None:
    """The address that confirms for `member`, or None when no coordinator is known."""
    allowed = {normalise_address(a) for a in coordinators}
    named = MemberCoordinator.get_or_none(MemberCoordinator.member == member)
    if named is not None and named.address in allowed:
        return named.address
    own = account(member)
    entries = (Transfer.select(Transfer.entered_by)
               .where((Transfer.payer == own) | (Transfer.payee == own), Transfer.entered_by != "")
               .order_by(Transfer.id.desc()).limit(RECENT))
    for row in entries:
        found = ENTERED.search(row.entered_by)
        if found and normalise_address(found.group(1)) in allowed:
            return normalise_address(found.group(1))
    return None


def label(address: str) -> str:
    """"Name <address>" as statements and receipts show who confirmed or entered a trade."""
    member = by_address(address)
    return f"{member.name} <{address}>" if member is not None else f"<{address}>"
