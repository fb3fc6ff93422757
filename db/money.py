"""Exact amounts in the local unit: integer hundredths, parsed from what members write."""
from __future__ import annotations

import re
from decimal import Decimal

# "12", "12,50", "12.5", "€ 12" — but not "1e9", "NaN", "1.000,00" or "-5": an amount
# a member could mean two ways is refused with an explanation rather than guessed.
AMOUNT = re.compile(r"^\+?(\d{1,9})(?:[.,](\d{1,2}))?$")
MAX_CENTS = 10**11


class AmountError(ValueError):
    """`code` names what is wrong: format, zero, negative, too-large, too-precise."""

    def __init__(self, code: str, text: str):
        super().__init__(f"{code}: {text!r}")
        self.code = code
        self.text = text


def parse_amount(text: str, *, allow_zero: bool = False) -> int:
    """Hundredths of the unit in `text`, or AmountError."""
    clean = text.strip().replace("\u00a0", "").replace(" ", "")
    if clean.startswith("-"):
        raise AmountError("negative", text)
    if re.fullmatch(r"\+?\d+[.,]\d{3,}", clean):
        raise AmountError("too-precise", text)
    match = AMOUNT.match(clean)
    if not match:
        raise AmountError("format", text)
    cents = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if cents == 0 and not allow_zero:
        raise AmountError("zero", text)
    if cents >= MAX_CENTS:
        raise AmountError("too-large", text)
    return cents


def to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))
