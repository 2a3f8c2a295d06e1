"""Barcode validation: the configured pattern and the 14-digit library check digit."""

from __future__ import annotations

import re
import unicodedata

from core.policy.reasons import Reason
from core.policy.rules import BarcodeRule

# Longer than any barcode symbology a library uses; keeps junk out of SIP2 fields and indexes.
MAX_BARCODE_LENGTH = 64

# docs/barcodes.md, "US library barcodes": type, institution, serial, then the check digit.
LIBRARY_BARCODE_LENGTH = 14

_DIGITS = frozenset("0123456789")


def _is_ascii_digits(value: str, length: int) -> bool:
    # str.isdigit() also accepts superscripts and other scripts' digits.
    return len(value) == length and all(char in _DIGITS for char in value)


def luhn_check_digit(digits13: str) -> int:
    """Return the check digit of the first 13 digits of a library barcode (docs/barcodes.md)."""
    if not _is_ascii_digits(digits13, LIBRARY_BARCODE_LENGTH - 1):
        raise ValueError("expected 13 ASCII digits")
    total = 0
    for position, char in enumerate(digits13, start=1):
        digit = int(char)
        if position % 2 == 1:  # 1st, 3rd, ...: doubled, digits of the product summed
            digit *= 2
            if digit >= 10:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def barcode_refusal(value: str, rule: BarcodeRule) -> Reason | None:
    """Return BARCODE_INVALID if `value` breaks the rule, else None.

    Always refused, whatever the rule: empty, longer than MAX_BARCODE_LENGTH, surrounding
    whitespace (a framing leftover that would make a second, different barcode) and control
    characters (they would corrupt SIP2 frames and log lines).
    """
    if not value.strip() or len(value) > MAX_BARCODE_LENGTH or value != value.strip():
        return Reason.BARCODE_INVALID
    if any(unicodedata.category(char) == "Cc" for char in value):
        return Reason.BARCODE_INVALID
    if rule.pattern is not None and re.fullmatch(rule.pattern, value) is None:
        return Reason.BARCODE_INVALID
    if rule.luhn and not (
        _is_ascii_digits(value, LIBRARY_BARCODE_LENGTH)
        and luhn_check_digit(value[:-1]) == int(value[-1])
    ):
        return Reason.BARCODE_INVALID
    return None
