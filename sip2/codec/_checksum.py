"""SIP2 error detection: the checksum and the AY/AZ trailer, found by position at the end."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_HEX4: Final = re.compile(rb"[0-9a-fA-F]{4}")
_CHECKSUM_LENGTH: Final = 4
_MARKER_LENGTH: Final = 2  # "AY" or "AZ"


def checksum(data: bytes) -> str:
    """Return the SIP2 checksum of ``data`` (everything up to and including "AZ").

    The sum is over encoded bytes, not characters; the result is 4 uppercase hex digits.
    """
    return f"{-sum(data) & 0xFFFF:04X}"


@dataclass(frozen=True)
class Trailer:
    """The error-detection trailer found at the end of a received line."""

    body: bytes  # the message without AY/AZ
    sequence: int | None  # the AY digit, when present
    checksum: str  # the AZ value as sent, upper-cased
    valid: bool  # the checksum matches the bytes it covers


def split_trailer(line: bytes, delimiter: bytes) -> Trailer | None:
    """Find ``AY<digit>AZ<4 hex>`` at the very end of ``line``; None when there is none.

    The trailer is located by position, never by searching, because data may contain "AZ".
    Some kiosks put a field delimiter between the sequence number and "AZ"; that is accepted.
    """
    size = len(line)
    checksum_at = size - _CHECKSUM_LENGTH
    marker_at = checksum_at - _MARKER_LENGTH
    if marker_at < 0 or line[marker_at:checksum_at] != b"AZ":
        return None
    if _HEX4.fullmatch(line, checksum_at) is None:
        return None
    given = line[checksum_at:].decode("ascii").upper()
    valid = checksum(line[:checksum_at]) == given
    end = marker_at
    sequence: int | None = None
    for gap in (b"", delimiter):
        start = marker_at - len(gap) - 3
        digit = line[start + 2 : start + 3]
        between = line[start + 3 : marker_at]
        if start >= 0 and line[start : start + 2] == b"AY" and digit.isdigit() and between == gap:
            sequence = int(digit)
            end = start
            break
    return Trailer(body=line[:end], sequence=sequence, checksum=given, valid=valid)


def append_trailer(body: bytes, sequence: int | None) -> bytes:
    """Return ``body`` followed by ``AY<sequence>`` (when given) and ``AZ<checksum>``."""
    covered = body + (b"AY%d" % sequence if sequence is not None else b"") + b"AZ"
    return covered + checksum(covered).encode("ascii")
