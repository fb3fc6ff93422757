"""The group's plus addresses: `group+<prefix>-<token>@domain`, signed, and what each prefix does.

A token names an Address row and is an HMAC of it with the group's secret, so a
stranger can neither unsubscribe someone else nor fake a bounce for them. Tokens
are lower case because some mail systems lower-case the local part.
"""
from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import re
from urllib.parse import quote

from db.models import Address

from .compose import header_safe

TOKEN = re.compile(r"^(\d{1,12})-([a-z2-7]{16})$")


def sign(settings, purpose: str, address_id: int) -> str:
    mac = hmac.new(settings.secret(), f"{purpose}:{address_id}".encode(), hashlib.sha256).digest()
    return f"{address_id}-{base64.b32encode(mac[:10]).decode().lower()}"


def verify(settings, purpose: str, token: str) -> Address | None:
    """The Address a genuine token names, or None."""
    found = TOKEN.match(token.lower())
    if not found:
        return None
    if not hmac.compare_digest(sign(settings, purpose, int(found.group(1))), token.lower()):
        return None
    return Address.get_or_none(Address.id == int(found.group(1)))


def plus_address(settings, prefix: str, address_id: int) -> str:
    group = settings.group
    return f"{group.local_part}+{prefix}-{sign(settings, prefix, address_id)}@{group.domain}"


def split(settings, recipient: str) -> tuple[str, str] | None:
    """(prefix, token) of one of our plus addresses, else None."""
    local, _, domain = recipient.strip().strip("<>").lower().rpartition("@")
    group = settings.group
    if domain != group.domain or not local.startswith(group.local_part + "+"):
        return None
    prefix, dash, token = local[len(group.local_part) + 1:].partition("-")
    return (prefix, token) if dash else None


def unsubscribe_url(settings, address_id: int) -> str:
    base = settings.digest.public_url.rstrip("/")
    return f"{base}/u/{quote(sign(settings, 'u', address_id))}" if base else ""


def list_id(settings) -> str:
    """RFC 2919: the group's name as a phrase, then the id in angle brackets. A name with
    accents becomes an encoded word on its own; the id stays plain, for filters to match."""
    group = settings.group
    return email.utils.formataddr((header_safe(group.name), f"{group.local_part}.{group.domain}"), "utf-8")


def bulk_envelope(settings, address_id: int) -> tuple[dict[str, str], str]:
    """(headers, envelope sender) for one bulk mail to one address (RFC 2369, 8058, 3834)."""
    group = settings.group
    unsubscribe = f"<mailto:{plus_address(settings, 'u', address_id)}?subject=unsubscribe>"
    headers = {
        "List-Id": list_id(settings),
        # Members do post to the group by mail (RFC 2369 3.4).
        "List-Post": f"<mailto:{group.address}>",
        "List-Unsubscribe": unsubscribe,
        "Precedence": "bulk",
    }
    url = unsubscribe_url(settings, address_id)
    if url:
        # RFC 8058 section 8.1 lists the mailto: first; clients that can POST use the https:.
        headers["List-Unsubscribe"] = f"{unsubscribe}, <{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers, plus_address(settings, "b", address_id)
