"""The per-connection SIP2 state machine, sans I/O: bytes in, events out, messages to bytes."""

from __future__ import annotations

import enum
import re
from collections import deque
from dataclasses import dataclass
from typing import Final, Literal

from ._checksum import Trailer, append_trailer, split_trailer
from ._errors import (
    CHECKSUM,
    OVERSIZE,
    UNEXPECTED,
    UNKNOWN_COMMAND,
    LocalProtocolError,
    RemoteProtocolError,
)
from ._fields import Message
from ._limits import MAX_MESSAGE_BYTES, SEQUENCE_MODULUS
from ._requests import REQUEST_TYPES, RequestACSResend
from ._responses import RESPONSE_TYPES, RequestSCResend
from ._settings import TerminalSettings
from ._wire import MESSAGE_TYPES, command_of, encode_message, parse_body

Role = Literal["acs", "sc"]


class Sentinel(enum.Enum):
    """Events that are not messages."""

    NEED_DATA = "need data"
    CONNECTION_CLOSED = "connection closed"


NEED_DATA: Final = Sentinel.NEED_DATA  # feed more bytes with receive_data
CONNECTION_CLOSED: Final = Sentinel.CONNECTION_CLOSED  # the peer ended the stream


@dataclass(frozen=True)
class Replay:
    """Write ``data`` to the peer as it is: the answer to a 97 or to a retried request."""

    data: bytes = b""

    def __repr__(self) -> str:
        # The bytes are a whole response, patron data included (PRIV-16).
        return f"Replay(<{len(self.data)} bytes>)"


Event = Message | Replay | Literal[Sentinel.NEED_DATA, Sentinel.CONNECTION_CLOSED]

_LINE_BREAK: Final = re.compile(rb"[\r\n]")
_REQUEST_CODES: Final = frozenset(message_type.COMMAND for message_type in REQUEST_TYPES)
_RESPONSE_CODES: Final = frozenset(message_type.COMMAND for message_type in RESPONSE_TYPES)
_RESEND_CODES: Final = frozenset({RequestACSResend.COMMAND, RequestSCResend.COMMAND})


# Requests that change nothing and carry no date: a kiosk repeating the same 99 heartbeat with
# the same AY is asking again, not retrying, and must get a fresh status (with the current time).
_FRESH_EVERY_TIME: Final = frozenset({"99"})


# Answers that end a patron session: not kept for replay, so the next patron at the kiosk
# cannot have the previous one's last answer sent again with a 97 (PRIV-16).
_SESSION_ENDS: Final = frozenset({"36"})


@dataclass(frozen=True)
class _Oversize:
    head: bytes  # the first bytes of the dropped line, enough to name its command


class Connection:
    """One SIP2 connection, seen from our side: "acs" (the server) or "sc" (a kiosk/client).

    Feed received bytes to ``receive_data`` (b"" at end of stream), then call ``next_event``
    until it returns NEED_DATA. Input lines may end in CR, LF or CRLF; empty lines are
    skipped; a line longer than MAX_MESSAGE_BYTES is dropped as it streams and reported once,
    when its terminator arrives, as RemoteProtocolError("oversize"). Text left without a
    terminator at end of stream is read as a last message. A RemoteProtocolError concerns
    one message only: keep calling ``next_event`` for the next one.

    Role "acs": a damaged message raises RemoteProtocolError("checksum"), answer it with
    ``send(RequestSCResend())``. A 97 returns ``Replay`` with the last response; when nothing
    has been sent yet it returns ``RequestACSResend()`` itself, best answered with 96. A request
    carrying the same (AY, AZ) as the one just answered is a retry and also returns ``Replay``,
    so a retried checkout is never run twice; this needs the terminal to send AZ and error
    detection not "off". ``send`` echoes the request's AY and appends AZ when the settings
    say so, and keeps the bytes for 97 and retries.

    Role "sc": ``send`` numbers requests AY 0..9 (error detection not "off"); a 96 from the
    ACS is returned as ``RequestSCResend()``, and ``last_sent`` holds the bytes to send again.
    96 and 97 carry AZ but no AY in both roles, as in the spec's vectors ("96AZFEF6").

    ``settings`` may be replaced at any time, e.g. after login with the account's own. Login
    state is not kept here: the server's session owns it. A 36 (end of a patron session) is
    not kept for replay, and ``forget`` drops what is kept (after a patron idle timeout).
    """

    def __init__(self, role: Role, settings: TerminalSettings | None = None) -> None:
        if role not in ("acs", "sc"):
            raise LocalProtocolError(f"role must be 'acs' or 'sc', not {role!r}")
        self.role: Role = role
        self.settings = settings if settings is not None else TerminalSettings()
        self.last_sent: bytes | None = None
        self._incoming = _REQUEST_CODES if role == "acs" else _RESPONSE_CODES
        self._outgoing = _RESPONSE_CODES if role == "acs" else _REQUEST_CODES
        self._lines: deque[bytes | _Oversize] = deque()
        self._partial = bytearray()
        self._discarding = False
        self._oversize_head = b""
        self._ended = False
        # acs: what the request being answered carried, and which request the last answer was for.
        self._request_sequence: int | None = None
        self._request_had_trailer = False
        self._request_key: tuple[int | None, str] | None = None
        self._answered_key: tuple[int | None, str] | None = None
        # sc: the next AY digit.
        self._next_sequence = 0

    @property
    def in_message(self) -> bool:
        """Whether part of a message has arrived and the rest has not (for a read deadline)."""
        return bool(self._partial) or self._discarding

    def forget(self) -> None:
        """Keep nothing to replay: a 97 or a retry after this gets no earlier answer (PRIV-16)."""
        self.last_sent = None
        self._answered_key = None

    def receive_data(self, data: bytes) -> None:
        """Add bytes received from the peer; b"" means the peer ended the stream."""
        if self._ended:
            if data:
                raise LocalProtocolError("data received after the end of the stream")
            return
        if not data:
            self._ended = True
            self._end_line()
            return
        pieces = _LINE_BREAK.split(data)
        for piece in pieces[:-1]:
            self._extend_line(piece)
            self._end_line()
        self._extend_line(pieces[-1])

    def _extend_line(self, piece: bytes) -> None:
        if self._discarding or not piece:
            return
        if len(self._partial) + len(piece) > MAX_MESSAGE_BYTES:
            self._oversize_head = (bytes(self._partial[:2]) + piece[:2])[:2]
            self._partial.clear()
            self._discarding = True
            return
        self._partial += piece

    def _end_line(self) -> None:
        if self._discarding:
            self._lines.append(_Oversize(self._oversize_head))
            self._discarding = False
        elif self._partial:  # an empty line (or the LF of a CRLF) is skipped
            self._lines.append(bytes(self._partial))
            self._partial.clear()

    def next_event(self) -> Event:
        """Return the next message, Replay, NEED_DATA or CONNECTION_CLOSED.

        Raises RemoteProtocolError for one bad message; the next call goes on after it.
        """
        if self._lines:
            return self._read(self._lines.popleft())
        return CONNECTION_CLOSED if self._ended else NEED_DATA

    def _read(self, line: bytes | _Oversize) -> Message | Replay:
        if isinstance(line, _Oversize):
            self._request_sequence = None
            self._request_key = None
            raise RemoteProtocolError(
                OVERSIZE, command_of(line.head), f"line longer than {MAX_MESSAGE_BYTES} bytes"
            )
        settings = self.settings
        trailer = split_trailer(line, settings.field_delimiter.encode(settings.encoding))
        body = line if trailer is None else trailer.body
        command = command_of(body)
        self._request_sequence = trailer.sequence if trailer is not None else None
        self._request_had_trailer = trailer is not None
        self._request_key = None
        self._check_trailer(trailer, command)
        if command not in MESSAGE_TYPES:
            raise RemoteProtocolError(UNKNOWN_COMMAND, command)
        if command not in self._incoming:
            raise RemoteProtocolError(UNEXPECTED, command, f"{command} is not sent by the peer")
        if self.role == "acs":
            replay = self._replay_for(command, trailer)
            if replay is not None:
                return replay
        return parse_body(body, settings)

    def _check_trailer(self, trailer: Trailer | None, command: str | None) -> None:
        mode = self.settings.error_detection
        if mode == "off":
            return
        if trailer is None:
            if mode == "require":
                raise RemoteProtocolError(CHECKSUM, command, "no error detection trailer")
        elif not trailer.valid:
            raise RemoteProtocolError(CHECKSUM, command, "checksum mismatch")

    def _replay_for(self, command: str, trailer: Trailer | None) -> Replay | None:
        if command == RequestACSResend.COMMAND:
            # Nothing sent yet: the caller gets RequestACSResend itself and can answer 96.
            return Replay(self.last_sent) if self.last_sent is not None else None
        if trailer is None or self.settings.error_detection == "off":
            return None
        if command in _FRESH_EVERY_TIME:
            self._request_key = None
            return None
        key = (trailer.sequence, trailer.checksum)
        if key == self._answered_key and self.last_sent is not None:
            return Replay(self.last_sent)
        self._request_key = key
        return None

    def send(self, message: Message) -> bytes:
        """Encode ``message`` for the peer, with terminator and trailer; returns the bytes.

        Raises LocalProtocolError for a message our role does not send or a value that
        cannot be encoded.
        """
        command = type(message).COMMAND
        if command not in self._outgoing:
            raise LocalProtocolError(f"role {self.role!r} does not send {type(message).__name__}")
        settings = self.settings
        body = encode_message(message, settings)
        framed = self._with_trailer(body, command)
        data = framed + settings.terminator.encode(settings.encoding)
        self.last_sent = data
        if self.role == "acs":
            self._answered_key = self._request_key
            self._request_key = None
            if command in _SESSION_ENDS:
                self.forget()
        return data

    def _with_trailer(self, body: bytes, command: str) -> bytes:
        mode = self.settings.error_detection
        if mode == "off":
            return body
        if self.role == "acs":
            if mode == "accept" and not self._request_had_trailer:
                return body
            sequence = None if command in _RESEND_CODES else self._request_sequence
            return append_trailer(body, sequence)
        if command in _RESEND_CODES:
            return append_trailer(body, None)
        sequence = self._next_sequence
        self._next_sequence = (sequence + 1) % SEQUENCE_MODULUS
        return append_trailer(body, sequence)
