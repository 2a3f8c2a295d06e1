"""The error kinds of the device protocols: our own misuse, and bytes that cannot be read."""

from __future__ import annotations

from typing import Final

# Reasons carried by DecodeError, so callers can act without parsing text.
CRC: Final = "crc"  # a frame or tag whose checksum does not match
TRUNCATED: Final = "truncated"  # shorter than its layout needs
MALFORMED: Final = "malformed"  # a field that cannot be read (a length that disagrees, ...)
BLANK: Final = "blank"  # an RFID tag that holds no library data
OVERSIZE: Final = "oversize"  # longer than any frame or read of this kind
UNEXPECTED: Final = "unexpected"  # a well-formed frame that does not answer what was asked


class DeviceProtocolError(Exception):
    """Base of the device protocols' errors."""


class EncodeError(DeviceProtocolError, ValueError):
    """We misused the API: a value that cannot be encoded (an item id too long, a bad UID)."""


class DecodeError(DeviceProtocolError):
    """Bytes from a device or a tag that are not what the protocol allows.

    ``reason`` is one of the reason constants of this module; ``detail`` is for logs.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
