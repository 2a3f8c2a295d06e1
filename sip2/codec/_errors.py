"""The two error kinds of the SIP2 codec: our own misuse and a peer's malformed input."""

from __future__ import annotations

from typing import Final

# Reasons carried by RemoteProtocolError, so the server can pick its answer without parsing text.
CHECKSUM: Final = "checksum"  # bad or (in "require" mode) missing AY/AZ trailer: answer 96
OVERSIZE: Final = "oversize"  # a line longer than MAX_MESSAGE_BYTES was dropped
TRUNCATED: Final = "truncated"  # shorter than the fixed fields of its command
MALFORMED: Final = "malformed"  # a fixed field that cannot be read (e.g. letters in a count)
UNKNOWN_COMMAND: Final = "unknown command"  # not a 2-digit code this codec knows
UNEXPECTED: Final = "unexpected"  # a known message the peer's role never sends (98 to the ACS)


class ProtocolError(Exception):
    """Base of the codec's errors."""


class LocalProtocolError(ProtocolError):
    """We misused the API: a wrong message for the role, a value that cannot be encoded."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something that is not a valid SIP2 message.

    ``reason`` is one of the reason constants of this module. ``command`` is the 2-digit code
    when it could be read, so the server can answer with that message's negative response.
    ``detail`` is for logs and never holds message content (PRIV-16: no barcodes, no PINs).
    """

    def __init__(self, reason: str, command: str | None = None, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.command = command
        self.detail = detail

    @property
    def wants_resend(self) -> bool:
        """True when the right answer is 96 (request SC resend): the message was damaged."""
        return self.reason == CHECKSUM
