"""Organisational domains (RFC 7489 section 3.2), read from the Public Suffix List Debian ships.

DMARC compares the From domain with a DKIM signing domain by their organisational
domains: `mail.example.org` and `example.org` are one organisation, `evil.co.uk` and
`example.co.uk` are two. Only the Public Suffix List knows that `co.uk` is a suffix
under which anyone registers. Debian's `publicsuffix` package keeps it at
/usr/share/publicsuffix; without it `organisational` takes the last two labels, and
`aligned` falls back to a rule that can only refuse too much (one domain must be the
other or a parent of it), never accept two strangers under `co.uk`.
"""
from __future__ import annotations

import functools
from pathlib import Path

LIST = Path("/usr/share/publicsuffix/public_suffix_list.dat")


class Suffixes:
    """The list's rules: plain (`co.uk`), wildcard (`*.ck`) and exception (`!www.ck`)."""

    def __init__(self, text: str):
        self.rules, self.exceptions = set(), set()
        for line in text.splitlines():
            rule = line.strip().split()[0].lower() if line.strip() else ""
            if not rule or rule.startswith("//"):
                continue
            (self.exceptions if rule.startswith("!") else self.rules).add(rule.lstrip("!"))

    def suffix_length(self, labels: list[str]) -> int:
        """How many labels at the right of `labels` are a public suffix (at least one)."""
        longest = 1   # the list's implicit rule "*": every top-level domain is a suffix
        for size in range(1, len(labels) + 1):
            name = ".".join(labels[-size:])
            if name in self.exceptions:
                return size - 1
            wildcard = ".".join(["*", *labels[-size + 1:]]) if size > 1 else "*"
            if name in self.rules or (size > 1 and wildcard in self.rules):
                longest = size
        return longest


@functools.lru_cache(maxsize=1)
def _installed() -> Suffixes | None:
    try:
        return Suffixes(LIST.read_text(encoding="utf-8"))
    except OSError:
        return None


def _labels(domain: str) -> list[str]:
    return [label for label in domain.strip().strip(".").lower().split(".") if label]


def organisational(domain: str, suffixes: Suffixes | None | bool = True) -> str:
    """The registered domain `domain` belongs to: `example.org` for `mail.example.org`,
    `example.co.uk` for `www.example.co.uk`. `suffixes`: True for the installed list,
    None for the last-two-labels rule, or a list of one's own."""
    suffixes = _installed() if suffixes is True else suffixes
    labels = _labels(domain)
    size = suffixes.suffix_length(labels) if suffixes is not None else 1
    return ".".join(labels[-(size + 1):]) if len(labels) > size else ".".join(labels)


def aligned(signing: str, from_domain: str, *, strict: bool = False, suffixes: Suffixes | None | bool = True) -> bool:
    """DMARC identifier alignment of a DKIM signing domain (d=) with the From domain."""
    signing, from_domain = ".".join(_labels(signing)), ".".join(_labels(from_domain))
    if not signing or not from_domain:
        return False
    if strict:
        return signing == from_domain
    suffixes = _installed() if suffixes is True else suffixes
    if suffixes is None:
        shorter, longer = sorted((signing, from_domain), key=len)
        return "." in shorter and (longer == shorter or longer.endswith("." + shorter))
    organisation = organisational(from_domain, suffixes)
    # A public suffix is nobody's organisation: `co.uk` aligns with nothing.
    return "." in organisation and organisation != _suffix_of(from_domain, suffixes) \
        and organisational(signing, suffixes) == organisation


def _suffix_of(domain: str, suffixes: Suffixes) -> str:
    labels = _labels(domain)
    return ".".join(labels[-suffixes.suffix_length(labels):])
