"""Barcode scanner reads: framing on the serial line, AIM symbology ids, Codabar start/stop."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final, Literal

from devices.protocols.errors import MALFORMED, OVERSIZE, DecodeError, EncodeError

STX: Final = 0x02
ETX: Final = 0x03
# Longer than any 1D symbology a library prints, and than the QR codes phones show at desks;
# a line that grows past it is noise (a scanner in a wrong mode), dropped as it streams.
MAX_READ_BYTES: Final = 512
# docs/devices.md: without a terminator a read ends after 50-100 ms of silence.
DEFAULT_IDLE_GAP_S: Final = 0.075

Terminator = Literal["CR", "LF", "CRLF", "TAB", "ETX", "none"]
_TERMINATOR_BYTES: Final[dict[str, bytes]] = {
    "CR": b"\r",
    "LF": b"\n",
    "CRLF": b"\r\n",
    "TAB": b"\t",
    "ETX": b"\x03",
    "none": b"",
}
# A read ends at CR, LF or ETX whatever the scanner is set to (docs/devices.md); TAB if asked.
_ALWAYS_ENDS: Final = frozenset(b"\r\n\x03")


class Symbology(enum.Enum):
    """The symbology an AIM identifier (ISO/IEC 15424) names."""

    CODE39 = "Code 39"
    CODE128 = "Code 128"
    GS1_128 = "GS1-128"
    EAN_UPC = "EAN/UPC"
    CODABAR = "Codabar"
    ITF = "Interleaved 2 of 5"
    PDF417 = "PDF417"
    QR = "QR Code"
    DATA_MATRIX = "Data Matrix"
    OTHER = "other"


_AIM_FLAGS: Final[dict[str, Symbology]] = {
    "A": Symbology.CODE39,
    "C": Symbology.CODE128,
    "E": Symbology.EAN_UPC,
    "F": Symbology.CODABAR,
    "I": Symbology.ITF,
    "L": Symbology.PDF417,
    "Q": Symbology.QR,
    "d": Symbology.DATA_MATRIX,
}
# "]" + flag character + one modifier character.
_AIM: Final = re.compile(r"\]([A-Za-z])([0-9A-Za-z])")
_CODABAR: Final = re.compile(r"[A-Da-d]([0-9$:/.+\-]+)[A-Da-d]")


@dataclass(frozen=True)
class BarcodeFraming:
    """How one scanner is set up: terminator, STX/ETX, prefix/suffix, idle gap.

    ``terminator`` "none" ends a read after ``idle_gap_s`` of silence; otherwise a read ends at
    the terminator (and always at CR, LF or ETX). ``stx_etx`` and the terminator are what the
    simulator sends; reading accepts STX/ETX either way.
    """

    terminator: Terminator = "CR"
    stx_etx: bool = False
    prefix: str = ""
    suffix: str = ""
    idle_gap_s: float = DEFAULT_IDLE_GAP_S
    strip_aim: bool = True
    strip_codabar: bool = True


@dataclass(frozen=True)
class Scan:
    """One decoded read: the barcode text and, when the scanner sent an AIM id, its symbology."""

    data: str
    symbology: Symbology | None = None
    aim: str | None = None  # e.g. "]C0", as the scanner sent it


class BarcodeFramer:
    """Splits the byte stream of a scanner into reads, sans I/O.

    ``receive_data(data, now)`` returns the reads the bytes completed; with terminator "none"
    call ``flush_idle(now)`` at ``deadline`` (it returns the read the silence ended). Time is
    a parameter in seconds (any monotonic clock).
    """

    def __init__(self, framing: BarcodeFraming) -> None:
        self.framing = framing
        self._ends = set(_ALWAYS_ENDS)
        if framing.terminator == "TAB":
            self._ends.add(0x09)
        self._partial = bytearray()
        self._discarding = False
        self._last_byte_at: float | None = None

    @property
    def deadline(self) -> float | None:
        """When ``flush_idle`` would end the read under way (None: nothing to wait for)."""
        if self.framing.terminator != "none" or self._last_byte_at is None:
            return None
        if not self._partial and not self._discarding:
            return None
        return self._last_byte_at + self.framing.idle_gap_s

    def receive_data(self, data: bytes, now: float) -> list[bytes]:
        reads: list[bytes] = []
        if self.framing.terminator == "none":
            reads += self.flush_idle(now)  # a gap before these bytes ended the previous read
        for byte in data:
            if byte == STX:  # a new read starts; anything before it was a fragment
                self._partial.clear()
                self._discarding = False
            elif byte in self._ends:
                reads += self._end_read()
            elif self._discarding:
                continue
            elif len(self._partial) >= MAX_READ_BYTES:
                self._partial.clear()
                self._discarding = True
            else:
                self._partial.append(byte)
        if data:
            self._last_byte_at = now
        return reads

    def flush_idle(self, now: float) -> list[bytes]:
        deadline = self.deadline
        if deadline is None or now < deadline:
            return []
        return self._end_read()

    def _end_read(self) -> list[bytes]:
        if self._discarding:
            self._discarding = False
            return []
        if not self._partial:  # the LF of CRLF, or an empty read
            return []
        read = bytes(self._partial)
        self._partial.clear()
        return [read]


def decode_read(raw: bytes, framing: BarcodeFraming) -> Scan:
    """Turn one read (without framing bytes) into a Scan.

    Strips the configured prefix and suffix, an AIM id and Codabar start/stop letters.
    Raises DecodeError for an empty read, one longer than MAX_READ_BYTES, or control
    characters (they would corrupt SIP2 frames and log lines).
    """
    if len(raw) > MAX_READ_BYTES:
        raise DecodeError(OVERSIZE, f"read longer than {MAX_READ_BYTES} bytes")
    text = raw.decode("latin-1")  # every byte maps; scanners send ASCII
    if framing.prefix and text.startswith(framing.prefix):
        text = text[len(framing.prefix) :]
    if framing.suffix and text.endswith(framing.suffix):
        text = text[: -len(framing.suffix)]
    symbology: Symbology | None = None
    aim: str | None = None
    found = _AIM.match(text) if framing.strip_aim else None
    if found is not None:
        aim = found.group(0)
        flag, modifier = found.groups()
        symbology = _AIM_FLAGS.get(flag, Symbology.OTHER)
        if symbology is Symbology.CODE128 and modifier == "1":
            symbology = Symbology.GS1_128
        text = text[found.end() :]
    if framing.strip_codabar and symbology in (None, Symbology.CODABAR):
        codabar = _CODABAR.fullmatch(text)
        if codabar is not None:
            text = codabar.group(1)
    if not text:
        raise DecodeError(MALFORMED, "empty read")
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in text):
        raise DecodeError(MALFORMED, "control character in a read")
    return Scan(data=text, symbology=symbology, aim=aim)


def encode_read(data: str, framing: BarcodeFraming, aim: str | None = None) -> bytes:
    """The bytes a scanner set up as ``framing`` sends for ``data`` (used by the simulator)."""
    if aim is not None and _AIM.fullmatch(aim) is None:
        raise EncodeError(f"not an AIM identifier: {aim!r}")
    body = framing.prefix + (aim or "") + data + framing.suffix
    try:
        encoded = body.encode("latin-1")
    except UnicodeEncodeError:
        raise EncodeError("scanners send single-byte text") from None
    if any(byte in _ALWAYS_ENDS or byte in (STX, 0x09) for byte in encoded):
        raise EncodeError("a read cannot hold framing bytes")
    if framing.stx_etx:
        encoded = bytes([STX]) + encoded + bytes([ETX])
        if framing.terminator == "ETX":  # the ETX of the frame is the terminator
            return encoded
    return encoded + _TERMINATOR_BYTES[framing.terminator]
