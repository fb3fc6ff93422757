"""Households: several members at one address, each with an account of their own.

A mail from a shared address is from the member whose name is the sender's display name
(`From: An de Vries <thuis@example.org>`): the whole name, or words that fit exactly one
of the household's names. When no name fits exactly one member, the sender is asked,
with a reply that lists the names, to write again with their own name as the sender.
Former members (left, refused) at the address are not candidates.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from . import members
from .membership import FORMER
from .models import Member


def _fold(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace(",", " ").split()


@dataclass
class Identified:
    member: Member | None
    # Set when the address is shared and the display name named none of them (or several).
    ambiguous: list[Member] = field(default_factory=list)


def identify(address: str, display_name: str) -> Identified:
    at = members.at_address(address) if address else []
    current = [m for m in at if m.status not in FORMER] or at
    if len(current) <= 1:
        return Identified(current[0] if current else None)
    return Identified(*_by_name(current, display_name))


def _by_name(candidates: list[Member], display_name: str) -> tuple[Member | None, list[Member]]:
    words = _fold(display_name)
    if words:
        exact = [m for m in candidates if _fold(m.name) == words]
        if len(exact) == 1:
            return exact[0], []
        partial = [m for m in candidates if all(word in _fold(m.name) for word in words)]
        if len(partial) == 1:
            return partial[0], []
    return None, candidates
