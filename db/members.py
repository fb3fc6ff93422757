"""Members, their addresses and accounts."""
from __future__ import annotations

from peewee import fn

from . import database
from .prepared import Prepared
from .models import LANGUAGES, MEMBER_STATUSES, MEMBER_TYPES, Account, Address, Member

SYSTEM_ACCOUNTS = {
    "association": "Association",
    "solidarity": "Solidarity fund",
}


class MemberError(ValueError):
    pass


def normalise_address(address: str) -> str:
    return address.strip().strip("<>").lower()


def ensure_system_accounts() -> None:
    for code, name in SYSTEM_ACCOUNTS.items():
        Account.get_or_create(code=code, defaults={"name": name})


def add(name: str, address: str | None, *, type: str = "regular", language: str = "nl",
        status: str = "active", joined=None, household_of: Member | None = None,
        number: int | None = None) -> Member:
    """Create a member with an account and, usually, a primary address.

    `household_of`: the new member shares that member's address (by default its primary
    one); each keeps an account of their own. A member without email (address None and
    no household) trades through a coordinator (VOOR). `number`: the member's number
    when it is given (kept from the group's former system), else the next free one."""
    if household_of is not None and not address:
        address = household_of.primary_address
    address = normalise_address(address) if address else None
    if type not in MEMBER_TYPES:
        raise MemberError(f"unknown member type {type!r}; one of {', '.join(MEMBER_TYPES)}")
    if language not in LANGUAGES:
        raise MemberError(f"unknown language {language!r}; one of {', '.join(LANGUAGES)}")
    if status not in MEMBER_STATUSES:
        raise MemberError(f"unknown status {status!r}")
    if address is not None and ("@" not in address or any(c.isspace() for c in address)):
        raise MemberError(f"{address!r} is not an email address")
    if not name.strip() or any(c in name for c in "\r\n"):
        raise MemberError("a member needs a one-line name")
    with database.atomic():
        found = at_address(address) if address else []
        holders = {m.id for m in found}
        if holders and (household_of is None or household_of.id not in holders):
            first = found[0]
            raise MemberError(f"{address} already belongs to {first.name} (member {first.number}); "
                              f"a housemate who shares it is added with --household-of {first.number}")
        if number is not None and Member.select().where(Member.number == number).exists():
            raise MemberError(f"member number {number} is taken")
        number = number or (Member.select(fn.MAX(Member.number)).scalar() or 0) + 1
        extra = {"joined": joined} if joined else {}
        member = Member.create(number=number, name=name.strip(), type=type, language=language,
                               status=status, **extra)
        if address:
            Address.create(member=member, email=address, primary=True)
        Account.create(code=f"member:{number}", member=member, name=member.name)
    return member


def add_address(member: Member, address: str) -> Address:
    address = normalise_address(address)
    if Address.get_or_none(Address.email == address):
        raise MemberError(f"{address} already belongs to a member")
    return Address.create(member=member, email=address)


def by_address(address: str) -> Member | None:
    """The member an address means: of a household sharing it, the first."""
    found = at_address(address) if address else []
    return found[0] if found else None


def at_address(address: str) -> list[Member]:
    """Every member with this address: one, or the members of a household."""
    return _at_address.rows(Member, normalise_address(address))


# Every inbound mail looks its sender up, and every reply its recipient: the SQL is made
# once (prepared.py), and within a transaction asked once (memo.py).
_at_address = Prepared(lambda email: Member.select().join(Address).where(Address.email == email)
                       .order_by(Member.id), 1, reads=["member", "address"])


def by_number_or_address(key: str) -> Member | None:
    key = key.strip()
    if key.isdigit():
        return Member.get_or_none(Member.number == int(key))
    return by_address(key)


def account(member: Member) -> Account:
    return Account.get(Account.member == member)
