"""Single-use tokens mailed to one address and confirmed by reply (payments, announcements,
cancellations): how they are made, stored and spent.

A token is 120 bits from the operating system's cryptographic source, written in lowercase
base32 (a-z, 2-7) because mail systems may case-fold the local part it travels in; only
its SHA-256 is stored, so a copy of the database confirms nothing.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets

from .members import normalise_address
from .models import ConfirmToken, Member
from .prepared import Prepared


def new() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


def digest(token: str) -> str:
    return hashlib.sha256(token.strip().lower().encode()).hexdigest()


def spend(model, row, now: dt.datetime) -> bool:
    """Mark a token row (any model with `id` and `used`) used; False when it was used
    already (a replay, or another worker answering the same mail at the same moment)."""
    query = _SPEND.get(model)
    if query is None:
        query = _SPEND[model] = Prepared(lambda when, row_id: model.update(used=when).where(
            model.id == row_id, model.used.is_null()), 2)
    return query.execute(model.used.db_value(now), row.id) == 1


# Every confirmation spends a token: its SQL is made once per kind of token (prepared.py).
_SPEND: dict = {}


def issue(action: str, member: Member, address: str, *, now: dt.datetime, days: int) -> tuple[ConfirmToken, str]:
    """A token asking `member` at `address` to confirm `action` (e.g. "cancel") by reply."""
    token = new()
    row = ConfirmToken.create(digest=digest(token), action=action, member=member,
                              address=normalise_address(address), created=now,
                              expires=now + dt.timedelta(days=days))
    return row, token


def find(action: str, token: str) -> ConfirmToken | None:
    return ConfirmToken.get_or_none(ConfirmToken.digest == digest(token), ConfirmToken.action == action)
