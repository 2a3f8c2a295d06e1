"""ISBN check digits: ISBN-10 (mod 11, X for ten) and ISBN-13 (978/979, weights 1 and 3)."""

from __future__ import annotations

ISBN10_LENGTH = 10
ISBN13_LENGTH = 13
ISBN13_PREFIXES = ("978", "979")  # the Bookland prefixes; no other EAN-13 is an ISBN


def compact_isbn(value: str) -> str:
    """The first token without hyphens, X upper case: "0-261-10221-4 (pbk.)" -> "0261102214"."""
    tokens = value.split()
    return tokens[0].replace("-", "").upper() if tokens else ""


def isbn_problem(compact: str) -> str | None:
    """Why `compact` (see `compact_isbn`) is no ISBN, or None when its check digit is right."""
    if len(compact) == ISBN10_LENGTH:
        body, check = compact[:9], compact[9]
        if not (compact.isascii() and body.isdigit() and (check.isdigit() or check == "X")):
            return "is not an ISBN-10 (nine digits and a digit or X)"
        weights = range(10, 1, -1)
        total = sum(weight * int(digit) for weight, digit in zip(weights, body, strict=True))
        total += 10 if check == "X" else int(check)
        return None if total % 11 == 0 else "has a wrong ISBN-10 check digit"
    if len(compact) == ISBN13_LENGTH:
        if not (compact.isascii() and compact.isdigit()):
            return "is not an ISBN-13 (13 digits)"
        if not compact.startswith(ISBN13_PREFIXES):
            return "is not an ISBN-13 (it must start with 978 or 979)"
        total = sum((3 if i % 2 else 1) * int(digit) for i, digit in enumerate(compact))
        return None if total % 10 == 0 else "has a wrong ISBN-13 check digit"
    return "must have 10 or 13 digits"
