"""Single-use tokens mailed to one address and confirmed by reply (payments, announcements,
cancellations): how they are made, stored and spent.

A token is 120 bits from the operating system's cryptographic source, written in lowercase
base32 (a-z, 2-7) because mail systems may case-fold the local part it travels in; only
its SHA-256 is stored. The mail that carries it waits in the outbox, and is kept there
once sent, with each token sealed (`seal`): encrypted with a key derived from the group's
secret, which lives outside the database. Delivery unseals it just before signing and
sending. So a copy of the database confirms nothing.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

from .members import normalise_address
from .models import ConfirmToken, Member
from .prepared import Prepared


def new() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


# A token where our mails carry it: after "+t-" in a Reply-To address, or in a subject's
# "[t-…]" (mailer/message/compose.py keeps that tag outside any encoded word, so it is literal).
_LIVE = re.compile(rb"(?<=[+\[][a-z]-)([a-z2-7]{24})(?=[@\]])")
_SEALED = re.compile(rb"~([a-z2-7]{8})([a-z2-7]{24})")


def _pad(secret: bytes, nonce: bytes) -> bytes:
    return hmac.new(secret, b"outbox-token:" + nonce, hashlib.sha256).digest()[:15]


def _xor(token: bytes, pad: bytes) -> bytes:
    """A token (24 base32 characters) combined with a pad: again 24 base32 characters."""
    data = base64.b32decode(token.upper())
    return base64.b32encode(bytes(a ^ b for a, b in zip(data, pad))).lower()


def seal(raw: bytes, secret: bytes) -> bytes:
    """The mail with every token it carries replaced by "~" + nonce + the token encrypted
    under the secret: what the outbox stores."""
    sealed = {}

    def one(match: re.Match) -> bytes:
        token = match.group(1)
        if token not in sealed:
            nonce = base64.b32encode(secrets.token_bytes(5)).lower()
            sealed[token] = b"~" + nonce + _xor(token, _pad(secret, nonce))
        return sealed[token]
    return _LIVE.sub(one, raw)


def unseal(raw: bytes, secret: bytes) -> bytes:
    """The mail as it goes out: each sealed token back in clear."""
    return _SEALED.sub(lambda match: _xor(match.group(2), _pad(secret, match.group(1))), raw)


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
