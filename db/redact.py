"""Finding a forgotten member in stored text and mail (addresses, names, phone numbers), and
replacing what names them.

Text is matched as str: raw mail is decoded as UTF-8 with surrogate escapes, so bytes
that are not UTF-8 come back unchanged. A name counts as a word only between characters
that are not letters or digits, so "Piet" is not found in "Pieter"; an underscore is a
boundary too, as in a Q-encoded header ("Fenneke_Brakkenstein").
"""
from __future__ import annotations

import base64
import email
import email.policy
import html
import quopri
import re
from email.header import Header, decode_header, make_header

# Words in a name that name nobody on their own (Dutch, French, German tussenvoegsels).
PARTICLES = frozenset("van de der den het ter ten te op in 't la le les du des da di del della dos von zu "
                      "y and en et".split())
# Name parts shorter than this are matched only as part of the full name.
SHORTEST_PART = 3
# Shorter parts are common words too ("Will", "Mark"): matched only as written.
CASELESS_PART = 5
# A full name, a description or a listing's text shorter than this is too common to look for.
SHORTEST_PHRASE = 5
# Trunk prefixes: a national number 06… is also written +31 6…, 0032 6… (nl, be, fr, de, lu, uk).
COUNTRY_CODES = ("31", "32", "33", "49", "352", "44")

_WORD = r"[^\W_]"
_PHONE = re.compile(r"(?<![\w+])(?:\+|0)[\d() ./-]{7,24}\d(?!\w)")
_DATE = re.compile(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?!\d)")
_SEPARATOR = r"[\s()./-]{0,3}"
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
# A token as the outbox keeps it sealed (db/tokens.py).
_SEALED = re.compile(rb"~[a-z2-7]{32}")


def _word(pattern: str) -> str:
    return rf"(?<!{_WORD})(?:{pattern})(?!{_WORD})"


def _phrase(text: str) -> str:
    """A text as it may come back re-wrapped: any whitespace between its words."""
    return r"\s+".join(re.escape(word) for word in text.split())


def name_parts(name: str, elsewhere: set[str] = frozenset()) -> list[str]:
    """The words of `name` that name its bearer on their own: not particles, not shorter
    than SHORTEST_PART, and not part of another member's name (`elsewhere`, lower-cased)."""
    parts = []
    for word in name.split():
        for part in {word, *word.split("-")}:
            part = part.strip(".,;:'\"()")
            if (len(part) >= SHORTEST_PART and part.lower() not in PARTICLES
                    and part.lower() not in elsewhere and part not in parts):
                parts.append(part)
    return parts


def phones_in(text: str) -> set[str]:
    """Phone numbers written in `text`, as digits (a leading + kept): starting with 0 or
    +, 9 to 15 digits, not a date. Quoted lines ("> …") are someone else's text."""
    found = set()
    own = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    for match in _PHONE.finditer(own):
        value = match.group(0).strip()
        digits = re.sub(r"\D", "", value)
        if 9 <= len(digits) <= 15 and not _DATE.match(value):
            found.add(("+" if value.startswith("+") else "") + digits)
    return found


def phones_in_mail(raw: bytes) -> set[str]:
    """Phone numbers in the text parts of a mail (a signature, "bel me op …")."""
    found = set()
    for part in email.message_from_bytes(raw, policy=email.policy.compat32).walk():
        if part.get_content_maintype() == "text":
            found |= phones_in(_decoded(part))
    return found


def _phone(number: str) -> str:
    """A number as others may write it: any separators, and both the national (06…)
    and the international form (+31 6…, 0031 (0)6…) of the same number."""
    digits = number.lstrip("+")
    if number.startswith("+") or digits.startswith("00"):
        digits = digits if number.startswith("+") else digits[2:]
        code = next((c for c in COUNTRY_CODES if digits.startswith(c)), None)
        codes, rest = ([code], digits[len(code):]) if code else ([], digits)
        forms = ["0"] if code else [rf"(?:\+|00){_SEPARATOR}"]
    else:
        codes, rest, forms = list(COUNTRY_CODES), digits[1:] if digits.startswith("0") else digits, ["0"]
    forms += [rf"(?:\+|00){_SEPARATOR}{_SEPARATOR.join(c)}{_SEPARATOR}(?:\(0\){_SEPARATOR})?" for c in codes]
    return rf"(?<![\d+])(?:{'|'.join(forms)}){_SEPARATOR}{_SEPARATOR.join(rest)}(?!\d)"


def _compile(patterns: list[str], flags: int = re.I):
    return re.compile("|".join(patterns), flags) if patterns else None


class Redactor:
    """Replaces, where a member is named at all, their addresses (any case, also as %40),
    phone numbers (however written), full name and the words of it that are theirs alone,
    and texts of theirs (transfer descriptions, listings) that other mail quotes.

    Texts are replaced only where the member is named, so the same words in unrelated
    mail stay."""

    def __init__(self, *, addresses: list[str], names: list[str], phones: set[str] = frozenset(),
                 texts: list[str] = (), hidden: str, name: str, elsewhere: set[str] = frozenset()):
        self.hidden, self.name = hidden, name
        quoted = [re.escape(a) for a in addresses] + [re.escape(a).replace("@", "%40") for a in addresses]
        self.addresses = _compile(quoted)
        self.phones = _compile([_phone(number) for number in sorted(phones)])
        self.full = _compile([_word(_phrase(n)) for n in names if len(n) >= SHORTEST_PHRASE])
        parts = sorted({p for n in names for p in name_parts(n, elsewhere)}, key=len, reverse=True)
        caseless = [_word(re.escape(p)) for p in parts if len(p) >= CASELESS_PART]
        as_written = [_word(re.escape(p)) for p in parts if len(p) < CASELESS_PART]
        self.parts = [p for p in (_compile(caseless), _compile(as_written, 0)) if p is not None]
        self.texts = _compile([_phrase(t) for t in sorted(set(texts), key=len, reverse=True)
                               if len(t.strip()) >= SHORTEST_PHRASE])
        self.who = [p for p in (self.addresses, self.phones, self.full, *self.parts) if p is not None]

    def names(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.who)

    def mentions(self, raw: bytes) -> bool:
        """Whether stored mail names the member: as stored, or once its transfer encoding
        (quoted-printable, base64, encoded words, HTML entities) is undone."""
        return bool(self.who) and any(self.names(view) for view in _views(raw))

    def holds(self, raw: bytes) -> bool:
        """Whether mail still holds anything of the member's in any decoding: what names
        them, or their texts (a description that stood beside the name)."""
        return any(self.names(view) or (self.texts is not None and self.texts.search(view))
                   for view in _views(raw))

    def text(self, value: str) -> str:
        """A stored text with what names the member replaced."""
        if not value or not self.names(value):
            return value
        if self.texts is not None:   # first: a description may hold the name itself
            value = self.texts.sub("[...]", value)
        for pattern, replacement in ((self.addresses, self.hidden), (self.phones, "[...]"), (self.full, self.name),
                                     *((part, self.name) for part in self.parts)):
            if pattern is not None:
                value = pattern.sub(lambda _, said=replacement: said, value)
        return value

    def __call__(self, raw: bytes) -> bytes:
        """Stored mail with what names the member replaced: where it stands as plain text
        (headers, 7bit and 8bit bodies, Q-encoded words), and inside quoted-printable and
        base64 text parts and encoded words, decoded, replaced and encoded again."""
        out, at = [], 0
        for start, end, encoding, charset in _encoded_parts(raw):
            out += [self._plain(raw[at:start]), self._encoded(raw[start:end], encoding, charset)]
            at = end
        out.append(self._plain(raw[at:]))
        return b"".join(out)

    def _plain(self, raw: bytes) -> bytes:
        text = _ENCODED_WORD.sub(self._encoded_word, raw.decode("utf-8", "surrogateescape"))
        return self.text(text).encode("utf-8", "surrogateescape")

    def _encoded_word(self, match) -> str:
        try:
            value = str(make_header(decode_header(match.group(0))))
        except Exception:  # malformed: left as it came
            return match.group(0)
        redacted = self.text(value)
        return match.group(0) if redacted == value else Header(redacted, "utf-8").encode(maxlinelen=0)

    def _encoded(self, data: bytes, encoding: str, charset: str) -> bytes:
        try:
            text = (base64.b64decode(data) if encoding == "base64" else quopri.decodestring(data)).decode(charset)
            redacted = self.text(text)
            if redacted == text:
                return data
            body = redacted.encode(charset)
        except (ValueError, LookupError):   # undecodable, or a name the charset cannot hold
            return data
        encoded = base64.encodebytes(body) if encoding == "base64" else quopri.encodestring(body)
        if not data.endswith(b"\n"):
            encoded = encoded.rstrip(b"\r\n")
        # The line ends the stored mail has (quopri keeps the text's own, adds bare LF soft breaks).
        encoded = encoded.replace(b"\r\n", b"\n")
        encoded = encoded.replace(b"\n", b"\r\n") if b"\r\n" in data else encoded
        # A sealed token split by a new soft line break would not be unsealed on delivery.
        if sorted(_SEALED.findall(encoded)) != sorted(_SEALED.findall(data)):
            return self._plain(data)
        return encoded


def _encoded_parts(raw: bytes):
    """(start, end, encoding, charset) of each quoted-printable or base64 text body in
    `raw`, in order."""
    if b"quoted-printable" not in raw.lower() and b"base64" not in raw.lower():
        return
    at = 0
    for part in email.message_from_bytes(raw, policy=email.policy.compat32).walk():
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if part.is_multipart() or part.get_content_maintype() != "text" or encoding not in ("quoted-printable",
                                                                                             "base64"):
            continue
        payload = part.get_payload().encode("ascii", "surrogateescape")
        start = raw.find(payload, at) if payload else -1
        if start >= 0:
            yield start, start + len(payload), encoding, part.get_content_charset() or "us-ascii"
            at = start + len(payload)


def _views(raw: bytes):
    """The mail as stored, then decoded the ways mail is encoded; made only as far as needed."""
    yield raw.decode("utf-8", "surrogateescape")
    decoded = quopri.decodestring(raw).decode("utf-8", "replace")
    yield decoded
    if "&" in decoded:
        yield html.unescape(decoded)
    lower = raw.lower()
    if b"base64" not in lower and b"=?" not in lower:
        return
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    for value in message.values():
        try:
            yield str(make_header(decode_header(str(value))))
        except Exception:  # a malformed encoded word: it was searched as it came
            pass
    for part in message.walk():
        if part.is_multipart():
            continue
        text = _decoded(part)
        yield text
        if "&" in text:
            yield html.unescape(text)


def _decoded(part) -> str:
    payload = part.get_payload(decode=True) or b""
    try:
        return payload.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:   # a charset Python does not know
        return payload.decode("utf-8", "replace")
