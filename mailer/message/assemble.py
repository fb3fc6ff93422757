"""A multipart/alternative message (text and HTML) assembled in bytes.

Through email.mime (compat32) the quoted-printable encoding of the bodies and the
generator's walk over three sets of headers cost 2 ms a reply, most of the processing
of a mail. Here only headers that need folding or encoded words go through the email
package; the bodies are encoded by the C `binascii.b2a_qp` and joined under one
boundary. The structure is what MIMEMultipart/MIMEText build; tests read every message
we send with policy.default, as a mail program would.
"""
from __future__ import annotations

import binascii
import secrets
from email.policy import compat32


def _part(content_type: str, body: str) -> bytes:
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True)
    return (f"Content-Type: {content_type}; charset=\"utf-8\"\nMIME-Version: 1.0\n"
            f"Content-Transfer-Encoding: quoted-printable\n\n").encode("ascii") + encoded


def assemble(headers, text: str, html: str, calendar: tuple[str, str] | None = None) -> bytes:
    """The message: `headers` (name, value) in order, after Content-Type and MIME-Version.
    Values are one-line strings or email.header.Header objects. `calendar` (method, text):
    an iCalendar invitation as the third alternative, where calendar programs look for it
    (RFC 6047: text/calendar with the METHOD as a parameter)."""
    boundary = "=_lets_" + secrets.token_hex(12)
    head = [("Content-Type", f'multipart/alternative; boundary="{boundary}"'), ("MIME-Version", "1.0"), *headers]
    separator = f"\n--{boundary}\n".encode("ascii")
    return b"".join((*(_header(name, value) for name, value in head), b"\n", separator,
                     _part("text/plain", text), separator, _part("text/html", html),
                     *((separator, _part(f"text/calendar; method={calendar[0]}", calendar[1]))
                       if calendar else ()),
                     f"\n--{boundary}--\n".encode("ascii")))


def _header(name: str, value) -> bytes:
    """One header as the email package's generator writes it (compat32). A short ASCII
    line needs no folding or encoding, and most are: those skip the email package."""
    if isinstance(value, str) and len(name) + len(value) < 76 and value.isascii() and value.isprintable():
        return f"{name}: {value}\n".encode("ascii")
    return compat32.fold_binary(name, value)
