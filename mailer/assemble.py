"""A multipart/alternative message (text and HTML) assembled in bytes.

Through email.mime (compat32) the quoted-printable encoding of the bodies and the
generator's walk over three sets of headers cost 2 ms a reply, most of the processing
of a mail. Here only the top header block goes through the email package (encoded
words, folding); the bodies are encoded by the C `binascii.b2a_qp` and joined under one
boundary. The structure is what MIMEMultipart/MIMEText build; tests read every message
we send with policy.default, as a mail program would.
"""
from __future__ import annotations

import binascii
import secrets
from email.message import Message


def _part(content_type: str, body: str) -> bytes:
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True)
    return (f"Content-Type: {content_type}; charset=\"utf-8\"\nMIME-Version: 1.0\n"
            f"Content-Transfer-Encoding: quoted-printable\n\n").encode("ascii") + encoded


def assemble(headers, text: str, html: str) -> bytes:
    """The message: `headers` (name, value) in order, after Content-Type and MIME-Version.
    Values are one-line strings or email.header.Header objects."""
    boundary = "=_lets_" + secrets.token_hex(12)
    head = Message()
    head["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
    head["MIME-Version"] = "1.0"
    for name, value in headers:
        head[name] = value
    head.set_payload("")  # headers only: the parts are joined below
    separator = f"\n--{boundary}\n".encode("ascii")
    return b"".join((head.as_bytes(), separator, _part("text/plain", text), separator,
                     _part("text/html", html), f"\n--{boundary}--\n".encode("ascii")))
