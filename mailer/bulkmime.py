"""Bulk messages assembled fast: the same MIME structure as Composer.compose, built in bytes.

A digest is ~40 KB of text and HTML. Through email.mime (compat32) its quoted-printable
encoding and generator cost 6 ms a message, ten times the rest of the work; see
assemble.py. Tests parse the result with policy.default.
"""
from __future__ import annotations

import email.utils
import secrets
from email.header import Header

from .assemble import assemble
from .compose import Composer, Outgoing, header_safe


def compose(composer: Composer, template: str, language: str, context: dict, *, to: str,
            kind: str, headers: dict[str, str], mail_from: str) -> Outgoing:
    """A multipart/alternative bulk message to `to` (never a reply: Auto-Submitted: auto-generated)."""
    subject, text, html = composer.render(template, language, context)
    group = composer.settings.group
    message_id = email.utils.make_msgid("lets", domain=group.domain)
    head = [
        ("From", email.utils.formataddr((header_safe(group.name), group.address), "utf-8")),
        ("To", header_safe(to)),
        ("Subject", Header(subject, "utf-8").encode() if not subject.isascii() else subject),
        ("Date", email.utils.formatdate(localtime=False)),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
        ("X-Loop", group.address),
        ("Content-Language", language),
        *((name, header_safe(value)) for name, value in headers.items()),
    ]
    return Outgoing(key=secrets.token_hex(16), message_id=message_id, mail_from=mail_from,
                    recipient=to, raw=assemble(head, text, html), kind=kind)
