"""Per-terminal wire settings: character set, terminator, delimiter, error detection, due dates."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Final, Literal

ErrorDetection = Literal["off", "accept", "require"]

TERMINATORS: Final = ("\r", "\n", "\r\n")
ERROR_DETECTION_MODES: Final = ("off", "accept", "require")
DUE_DATE_SIP2: Final = "sip2"  # 18-character SIP2 date; naive = local, aware = UTC "   Z"
DUE_DATE_SIP2_UTC: Final = "sip2_utc"  # 18-character SIP2 date, always UTC "   Z"

# Every supported character set must write printable ASCII as itself: command codes, field
# codes, delimiters and the AY/AZ trailer are framed and summed as single bytes.
_ASCII_PROBE: Final = "".join(chr(code) for code in range(0x20, 0x7F))


@dataclass(frozen=True)
class TerminalSettings:
    """How one terminal (or listener) writes and reads SIP2.

    - ``encoding``: cp850 (FOLIO, many kiosks), latin-1, utf-8, ascii, or any other
      ASCII-compatible codec name.
    - ``terminator``: written after each message ("\\r" per the spec, "\\r\\n" as Koha does, or
      "\\n"). Input always accepts all three.
    - ``field_delimiter``: one character, "|" per the spec.
    - ``error_detection``: "off" never sends AY/AZ and ignores them; "accept" verifies a
      trailer when present and answers with one when the request had one; "require" treats
      a message without a valid trailer as damaged.
    - ``due_date_format``: how AH is written: "sip2", "sip2_utc" or a strftime pattern such
      as "%Y-%m-%d". Reading AH tries the SIP2 form, ISO 8601, then this pattern.

    Invalid values raise ValueError when the settings are built.
    """

    encoding: str = "cp850"
    terminator: str = "\r"
    field_delimiter: str = "|"
    error_detection: ErrorDetection = "accept"
    due_date_format: str = DUE_DATE_SIP2

    def __post_init__(self) -> None:
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {self.encoding!r}") from None
        if _ASCII_PROBE.encode(self.encoding, errors="replace") != _ASCII_PROBE.encode("ascii"):
            raise ValueError(f"encoding {self.encoding!r} is not ASCII-compatible")
        if self.terminator not in TERMINATORS:
            raise ValueError(f"terminator must be one of {TERMINATORS!r}")
        delimiter = self.field_delimiter
        punctuation = len(delimiter) == 1 and delimiter.isascii() and delimiter.isprintable()
        if not punctuation or delimiter.isalnum() or delimiter == " ":
            raise ValueError("field delimiter must be one ASCII punctuation character")
        if self.error_detection not in ERROR_DETECTION_MODES:
            raise ValueError(f"error detection must be one of {ERROR_DETECTION_MODES!r}")
        due = self.due_date_format
        if due not in (DUE_DATE_SIP2, DUE_DATE_SIP2_UTC) and "%" not in due:
            raise ValueError("due date format must be 'sip2', 'sip2_utc' or a strftime pattern")
