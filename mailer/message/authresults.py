"""Authentication-Results headers that claim our own authserv-id, removed from mail as it arrives.

RFC 8601 section 5: a receiving server deletes (or renames) every Authentication-Results
header that carries its own authserv-id and came with the mail, since only the server
itself may write one. When `lets serve` is the group's receiving server
(`[inbound] authserv_id`), its SMTP edge does this before it stores the mail, so no
stored mail holds a header in our name that we did not write.
"""
from __future__ import annotations

import re

# The line break that ends the header's last line (a blank line follows it).
_HEADER_END = re.compile(rb"\r?\n(?=\r?\n)")
_FIELD_START = re.compile(rb"^[^ \t\r\n]", re.M)
_NAME = re.compile(rb"^authentication-results[ \t]*:", re.I)
_COMMENT = re.compile(rb"\([^()]*\)")


def _authserv_id(field: bytes) -> bytes:
    """The authserv-id of one Authentication-Results field: the first word before its
    first ';', comments and folding removed (a version number may follow the id)."""
    value = field.split(b":", 1)[1].split(b";", 1)[0]
    previous = None
    while previous != value:   # nested comments, innermost first
        previous, value = value, _COMMENT.sub(b" ", value)
    words = value.split()
    return words[0].strip(b'"').lower() if words else b""


def strip_own(raw: bytes, authserv_id: str) -> bytes:
    """`raw` without the Authentication-Results fields of its header that name
    `authserv_id`; every other byte as it came (DKIM signs them)."""
    own = authserv_id.strip().lower().encode("ascii", "ignore")
    end = _HEADER_END.search(raw)
    head, rest = (raw[:end.end()], raw[end.end():]) if end else (raw, b"")
    if not own or b"authentication-results" not in head.lower():
        return raw
    starts = [match.start() for match in _FIELD_START.finditer(head)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    kept = [field for field in (head[a:b] for a, b in zip(starts, [*starts[1:], len(head)]))
            if not (_NAME.match(field) and _authserv_id(field) == own)]
    return b"".join(kept) + rest
