"""Raw bytes → Inbound: the headers and the text of a mail that the rest of the system needs.

We parse with the stdlib `email` package under the compat32 policy and decode the few
headers we read with `email.header`/`email.utils`. Measured on a 2 KB multipart mail:
policy.default 3.4 ms, compat32 0.27 ms; this runs for every inbound mail.
"""
from __future__ import annotations

import email
import email.header
import email.utils
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message

import html2text

from .quotes import strip_quotes

# Deeper MIME trees are not walked: no mail a member writes nests that far.
MAX_DEPTH = 10
# Only this much of a body is read: commands and descriptions are short, and quote
# stripping a 10 MB line took 8 s.
MAX_TEXT = 64 * 1024
# HTML is cut to this before it is converted: html2text took 82 s for a 9 MB HTML-only
# mail (and every mail behind it waited). Markup is several times its text.
MAX_HTML = 4 * MAX_TEXT


@dataclass
class Inbound:
    message: Message
    message_id: str
    sender: str            # the From: address, lower-cased ("" if none)
    sender_name: str
    subject: str
    text: str              # the body as text (HTML converted), quotes included
    reply_text: str        # the body with quoted history and signature removed
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    mail_from: str | None = None  # envelope sender: "" is the null return path, None unknown
    rcpt_tos: tuple[str, ...] = ()
    defects: list[str] = field(default_factory=list)
    senders: tuple[str, ...] = ()   # every address of From (a mail may name several)
    # mailer.message.sender_auth.Verdict: DKIM and DMARC, checked for mail that moves credit
    sender_auth: object = None

    def header(self, name: str) -> str:
        return decode_header(self.message.get(name, ""))


def _header_text(value) -> str:
    """A header's text with raw 8-bit bytes decoded, its encoded words left as they are."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        # compat32 hands raw 8-bit header bytes over as a Header of "unknown-8bit" chunks.
        value = "".join(_decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
                        for chunk, charset in email.header.decode_header(value))
    value = str(value)
    if any("\udc80" <= c <= "\udcff" for c in value):
        # Raw 8-bit header bytes (RFC 6532 allows UTF-8; older clients send latin-1).
        data = value.encode("ascii", "surrogateescape")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            value = data.decode("windows-1252", "replace")
    return value


def from_addresses(value) -> list[tuple[str, str]]:
    """(display name, address) of each address in a From header, read once and the same
    way everywhere. The addresses come from the header as sent: RFC 2047 forbids encoded
    words in an address, so `=?utf-8?q?an=40example.org?= <eve@evil.org>` is eve's mail
    whose name merely looks like An's address. Only the names are decoded."""
    pairs = _addresses(_one_line(_header_text(value)))
    return [(decode_header(name), address.strip().lower()) for name, address in pairs
            if "@" in address and "=?" not in address]


def decode_header(value) -> str:
    """An RFC 2047 header as one line of text; never raises, whatever the charset."""
    value = _header_text(value)
    if not value:
        return ""
    if "=?" not in value:  # no encoded word: nothing to decode (most headers; 11 µs each otherwise)
        return _one_line(value)
    try:
        text = str(email.header.make_header(email.header.decode_header(value)))
    except Exception:  # unknown charset, broken encoded word
        text = value
    return _one_line(text)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if candidate and candidate != "unknown-8bit":
            try:
                return data.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("windows-1252", "replace")


def _one_line(text: str) -> str:
    # Every control character, not only CR and LF: a vertical tab in a subject is legal
    # in a mail but not in a header we write back ("Re: …").
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()


# What phones and Macs type where members mean plain characters: curly quotes
# ("jusqu’au"), dashes, invisible spaces and joiners. NFKC (below) already turns the
# non-breaking spaces of French typography (U+00A0, U+202F) into spaces and "…" into "...".
TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "\u0060": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
})


def normalise(text: str) -> str:
    """Text as the command tables read it: NFKC, then the typography map. Done once,
    here at the edge, for the subject and the body alike."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(TYPOGRAPHY)


_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def message_id_from_bytes(raw: bytes) -> str:
    """The Message-ID, read from the header block alone, or one derived from the bytes
    when the sender gave none (so a resent copy is still recognised)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = _MESSAGE_ID.search(head)
    value = decode_header(match.group(1).decode("utf-8", "replace")) if match else ""
    found = re.search(r"<[^<>\s]+>", value)
    if found:
        return found.group(0)[:990]
    if value:
        return f"<{value.strip('<>')[:900]}>"
    return f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def _charset(part: Message) -> str:
    charset = part.get_content_charset() or "us-ascii"
    try:
        "".encode(charset)
        return charset
    except LookupError:
        return "utf-8"


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    charset = _charset(part)
    try:
        text = payload.decode(charset)
    except UnicodeDecodeError:
        # Undeclared or wrong charset: most such mail is really utf-8, the rest latin-1.
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = payload.decode("windows-1252", "replace")
    return text.replace("\x00", "")


def _text_parts(message: Message, depth: int = 0):
    """(content type, part) for the text parts that are not attachments, in order."""
    if depth > MAX_DEPTH:
        return
    if message.is_multipart():
        payload = message.get_payload()
        if not isinstance(payload, list):
            return
        for sub in payload:
            if isinstance(sub, Message):
                yield from _text_parts(sub, depth + 1)
        return
    ctype = message.get_content_type()
    if ctype in ("text/plain", "text/html"):
        disposition = (message.get("Content-Disposition") or "").lower()
        if not disposition.startswith("attachment"):
            yield ctype, message


def body_text(message: Message) -> str:
    """The plain text of a mail: the first text/plain part, else the first HTML part as text."""
    html = None
    for ctype, part in _text_parts(message):
        if ctype == "text/plain":
            return _decode_part(part)
        if html is None:
            html = part
    if html is not None:
        return html_to_text(_decode_part(html)[:MAX_HTML])
    return ""


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_links = False
    return converter.handle(html).strip() + "\n"


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        return email.utils.getaddresses([value])
    except Exception:
        return []


def parse(raw: bytes, *, mail_from: str | None = None, rcpt_tos=()) -> Inbound:
    """Parse raw bytes; never raises. What could not be understood lands in `defects`.

    `mail_from` is the envelope sender; None (a file, an IMAP mailbox) falls back to
    the Return-Path header the delivering server wrote, if any."""
    defects = []
    try:
        message = email.message_from_bytes(raw)
    except RecursionError:
        # A MIME tree thousands of levels deep: the email package recurses once a level.
        # The headers still tell who wrote and what about; the body is not read.
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        message = email.message_from_bytes(re.sub(rb"(?im)^content-type:.*(?:\r?\n[ \t].*)*", b"", head)
                                           + b"\r\n\r\n")
        defects.append("MIME nesting too deep: body not read")
    if mail_from is None and message.get("Return-Path") is not None:
        found = re.search(r"<([^<>]*)>", decode_header(message.get("Return-Path")))
        mail_from = found.group(1).strip() if found else None
    defects += [type(d).__name__ for d in getattr(message, "defects", [])]
    pairs = from_addresses(message.get("From", ""))
    sender_name, sender = pairs[0] if pairs else ("", "")
    try:
        text = normalise(body_text(message)[:MAX_TEXT])
    except Exception as exc:  # a broken part must not lose the mail
        defects.append(f"body: {exc.__class__.__name__}")
        text = ""
    references = tuple(re.findall(r"<[^<>\s]+>", decode_header(message.get("References", ""))))
    in_reply_to = " ".join(re.findall(r"<[^<>\s]+>", decode_header(message.get("In-Reply-To", ""))))
    return Inbound(
        message=message,
        message_id=message_id_from_bytes(raw),
        sender=sender,
        senders=tuple(address for _, address in pairs),
        sender_name=_one_line(sender_name),
        subject=normalise(decode_header(message.get("Subject", ""))),
        text=text,
        reply_text=strip_quotes(text),
        in_reply_to=in_reply_to,
        references=references,
        mail_from=mail_from,
        rcpt_tos=tuple(rcpt_tos),
        defects=defects,
    )
