"""A member's standing: applying, approval or refusal, suspension, expulsion, reinstatement.

Each change is checked against the member's current status and recorded as a MemberEvent
with its reason, in the caller's transaction. Who may trade follows from the status:
`TRADING` members may use every command and be paid; suspended and expelled members,
applicants and former members may not (the dispatcher and the ledger refuse them).
"""
from __future__ import annotations

import datetime as dt

from . import members
from .models import Listing, Member, MemberEvent

TRADING = ("active", "leaving")
# Former members and refused applicants: their records stay, they no longer take part.
FORMER = ("left", "refused")

# status → the statuses it may move to by each administrator's action
ALLOWED = {
    # A refused applicant may still be admitted by the general meeting (article 5.1).
    "approve": ("applicant", "refused"),
    "refuse": ("applicant",),
    "suspend": ("active", "leaving"),
    "expel": ("active", "leaving", "suspended"),
    "reinstate": ("suspended", "expelled"),
}
TARGET = {"approve": "active", "refuse": "refused", "suspend": "suspended", "expel": "expelled",
          "reinstate": "active"}


class MembershipError(ValueError):
    pass


def record(member: Member, status: str, *, reason: str = "", entered_by: str = "",
           now: dt.datetime | None = None) -> MemberEvent:
    """Move `member` to `status` and keep the change with its reason."""
    event = MemberEvent.create(member=member, status=status, previous=member.status, reason=reason,
                               entered_by=entered_by, **({"created": now} if now else {}))
    Member.update(status=status).where(Member.id == member.id).execute()
    member.status = status
    return event


def apply(name: str, address: str, *, language: str, now: dt.datetime, adult: bool | None = None) -> Member:
    """A new applicant from `address`; MemberError when the name or address will not do.
    `adult`: whether they said they are 18 or older (article 5.1), None when not yet."""
    member = members.add(name, address, language=language, status="applicant", joined=now.date())
    if adult is not None:
        say_adult(member, adult)
    MemberEvent.create(member=member, status="applicant", previous="", reason="applied by mail",
                       entered_by=members.normalise_address(address), created=now)
    return member


def say_adult(member: Member, adult: bool) -> None:
    """Keep the applicant's answer to "are you 18 or older?"."""
    Member.update(adult=adult).where(Member.id == member.id).execute()
    member.adult = adult


def change(member: Member, action: str, *, reason: str = "", entered_by: str,
           now: dt.datetime, meeting: bool = False) -> MemberEvent:
    """An administrator's decision: approve, refuse, suspend, expel or reinstate.
    `meeting`: the general meeting's decision, which may admit an applicant the core
    group refused (article 5.1)."""
    if member.status not in ALLOWED[action]:
        raise MembershipError(f"member {member.number} is {member.status}; "
                              f"{action} applies to {' or '.join(ALLOWED[action])} members")
    if action == "approve" and member.status == "refused" and not meeting:
        raise MembershipError(f"member {member.number} was refused by the core group; only the general "
                              f"meeting may admit them now: add --meeting")
    if action == "approve" and member.status == "refused" and not reason.strip():
        reason = "admitted by the general meeting"
    if action in ("refuse", "suspend", "expel") and not reason.strip():
        raise MembershipError(f"{action} needs a --reason: the member is told why")
    if action == "approve":
        Member.update(joined=now.date()).where(Member.id == member.id).execute()
        member.joined = now.date()
    target = TARGET[action]
    if action == "reinstate":
        # A member suspended while leaving goes back to leaving: the deadline still runs.
        last = (MemberEvent.select().where(MemberEvent.member == member, MemberEvent.status == member.status)
                .order_by(MemberEvent.id.desc()).first())
        target = "leaving" if last is not None and last.previous == "leaving" else "active"
    if action == "expel":
        withdraw_listings(member)
    return record(member, target, reason=reason.strip(), entered_by=entered_by, now=now)


def signed_up(member: Member) -> dt.date:
    """The day the member applied, from which article 5.4 counts the first month (not the
    day of approval); the day they joined for a member added without applying."""
    first = (MemberEvent.select(MemberEvent.created)
             .where(MemberEvent.member == member, MemberEvent.status == "applicant")
             .order_by(MemberEvent.id).first())
    return min(first.created.date(), member.joined) if first is not None else member.joined


def withdraw_listings(member: Member) -> int:
    return Listing.update(status="withdrawn").where(Listing.member == member,
                                                    Listing.status == "active").execute()
