"""DKIM signatures on outgoing mail (RFC 6376), so receivers can tell our digests are ours."""
from __future__ import annotations

import dkim

from .settings import Settings

# The headers a receiver shows or threads by; signing them keeps them from being altered.
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to",
                  b"references", b"reply-to", b"mime-version", b"content-type", b"auto-submitted")


class Signer:
    """Signs raw messages with the group's key; without a key it passes them through."""

    def __init__(self, settings: Settings):
        conf = settings.dkim
        self.selector = conf.selector.encode()
        self.domain = (conf.domain or settings.group.domain).encode()
        self.key = settings.path(conf.key_file).read_bytes() if conf.selector and conf.key_file else None

    @property
    def enabled(self) -> bool:
        return self.key is not None

    def sign(self, raw: bytes) -> bytes:
        if self.key is None:
            return raw
        # relaxed/relaxed: relays re-fold headers and rewrap whitespace; simple would break.
        signature = dkim.sign(raw, self.selector, self.domain, self.key,
                              canonicalize=(b"relaxed", b"relaxed"), include_headers=list(SIGNED_HEADERS))
        return signature + raw
