"""Encode one SIP2 message to bytes and parse one line back, driven by the field tables."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, NoReturn

from ._checksum import split_trailer
from ._errors import MALFORMED, TRUNCATED, UNKNOWN_COMMAND, LocalProtocolError, RemoteProtocolError
from ._fields import Layout, Message, layout_of
from ._requests import REQUEST_TYPES
from ._responses import RESPONSE_TYPES
from ._settings import TerminalSettings

MESSAGE_TYPES: Final[dict[str, type[Message]]] = {
    message_type.COMMAND: message_type for message_type in REQUEST_TYPES + RESPONSE_TYPES
}
# AY and AZ belong to the error-detection trailer; inside the fields they are never data.
_TRAILER_CODES: Final = frozenset({"AY", "AZ"})
_COMMAND_CODE: Final = re.compile(rb"[0-9]{2}")
_FIELD_CODE_LENGTH: Final = 2
_LINE_BREAKS: Final = ("\r", "\n")


def command_of(line: bytes) -> str | None:
    """Return the 2-digit command code at the start of ``line``, or None."""
    head = line[:2]
    return head.decode("ascii") if _COMMAND_CODE.fullmatch(head) else None


def encode_message(message: Message, settings: TerminalSettings) -> bytes:
    """Encode ``message`` with the terminal's settings: no AY/AZ trailer, no terminator.

    Raises LocalProtocolError for a value of the wrong type, a fixed field of the wrong
    width, or a value holding the field delimiter, CR or LF (they would break framing).
    Characters the encoding cannot represent are written as "?".
    """
    message_type = type(message)
    if MESSAGE_TYPES.get(message_type.COMMAND) is not message_type:
        raise LocalProtocolError(f"{message_type.__name__} is not a SIP2 message type")
    layout = layout_of(message_type)
    delimiter = settings.field_delimiter
    parts = [message_type.COMMAND]
    # This runs for every answer on the event loop: one pass over the precomputed table, and
    # the error text is only built when a value is refused.
    for slot in layout.fixed:
        text = _written(message, slot.name, slot.kind.write, settings)
        if delimiter in text or "\r" in text or "\n" in text:
            _refuse_framing(message, slot.name)
        parts.append(text)
    for variable in layout.variable:
        value = getattr(message, variable.name)
        if variable.repeat:
            if not isinstance(value, tuple | list) or (
                value and not all(isinstance(item, str) for item in value)
            ):
                raise LocalProtocolError(
                    f"{message_type.__name__}.{variable.name}: expected a tuple of str"
                )
            for item in value:
                if delimiter in item or "\r" in item or "\n" in item:
                    _refuse_framing(message, variable.name)
                parts.append(f"{variable.code}{item}{delimiter}")
            continue
        if value is None and not variable.required:
            continue
        if type(value) is str and variable.plain_text:
            text = value  # the TEXT kind writes a str as it is
        else:
            text = _written(message, variable.name, variable.kind.write, settings)
        if delimiter in text or "\r" in text or "\n" in text:
            _refuse_framing(message, variable.name)
        parts.append(f"{variable.code}{text}{delimiter}")
    if message.extra:
        _encode_extra(message, settings, parts)
    return "".join(parts).encode(settings.encoding, errors="replace")


def _encode_extra(message: Message, settings: TerminalSettings, parts: list[str]) -> None:
    where = f"{type(message).__name__}.extra"
    delimiter = settings.field_delimiter
    for pair in message.extra:
        if not (
            isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        ):
            raise LocalProtocolError(f"{where}: expected (code, value) pairs of str")
        code, value = pair
        if len(code) != _FIELD_CODE_LENGTH or code in _TRAILER_CODES:
            raise LocalProtocolError(f"{where}: bad field code {code!r}")
        parts.append(
            f"{_framed(code, where, settings)}{_framed(value, where, settings)}{delimiter}"
        )


def _refuse_framing(message: Message, name: str) -> NoReturn:
    raise LocalProtocolError(
        f"{type(message).__name__}.{name}: a value contains the field delimiter, CR or LF"
    )


def _framed(text: str, name: str, settings: TerminalSettings) -> str:
    if settings.field_delimiter in text or any(brk in text for brk in _LINE_BREAKS):
        raise LocalProtocolError(f"{name}: a value contains the field delimiter, CR or LF")
    return text


def _written(
    message: Message,
    name: str,
    write: Callable[[object, TerminalSettings], str],
    settings: TerminalSettings,
) -> str:
    try:
        return write(getattr(message, name), settings)
    except LocalProtocolError as error:
        raise LocalProtocolError(f"{type(message).__name__}.{name}: {error}") from None


def parse_message(line: bytes, settings: TerminalSettings) -> Message:
    """Parse one message (without terminator). A trailing AY/AZ trailer is dropped, unchecked.

    Raises RemoteProtocolError for an unknown command code, a line shorter than the command's
    fixed fields, or a fixed count that is not a number. Everything else is read leniently:
    any field order, unknown codes kept in ``extra``, a missing final delimiter, empty values,
    the first of repeated non-repeatable fields.
    """
    trailer = split_trailer(line, settings.field_delimiter.encode(settings.encoding))
    return parse_body(line if trailer is None else trailer.body, settings)


def parse_body(body: bytes, settings: TerminalSettings) -> Message:
    """Parse a message whose trailer has already been removed."""
    command = command_of(body)
    message_type = MESSAGE_TYPES.get(command) if command is not None else None
    if command is None or message_type is None:
        raise RemoteProtocolError(UNKNOWN_COMMAND, command)
    layout = layout_of(message_type)
    text = body.decode(settings.encoding, errors="replace")
    if len(text) < 2 + layout.fixed_width:
        raise RemoteProtocolError(TRUNCATED, command, f"shorter than the fixed fields of {command}")
    values = _read_fixed(layout, text, command, settings)
    extra = _read_variable(layout, text[2 + layout.fixed_width :], values, settings)
    build: Callable[..., Message] = message_type
    return build(**values, extra=tuple(extra))


def _read_fixed(
    layout: Layout, text: str, command: str, settings: TerminalSettings
) -> dict[str, object]:
    values: dict[str, object] = {}
    position = 2
    for slot in layout.fixed:
        chunk = text[position : position + slot.kind.width]
        try:
            values[slot.name] = slot.kind.read(chunk, settings)
        except ValueError:
            raise RemoteProtocolError(MALFORMED, command, f"fixed field {slot.name}") from None
        position += slot.kind.width
    return values


def _read_variable(
    layout: Layout, text: str, values: dict[str, object], settings: TerminalSettings
) -> list[tuple[str, str]]:
    extra: list[tuple[str, str]] = []
    lists: dict[str, list[str]] = {}
    seen: set[str] = set()
    for piece in text.split(settings.field_delimiter):
        if len(piece) < _FIELD_CODE_LENGTH:
            continue  # "||" or a stray character: nothing to keep
        code, value = piece[:_FIELD_CODE_LENGTH], piece[_FIELD_CODE_LENGTH:]
        if code in _TRAILER_CODES:
            continue
        slot = layout.by_code.get(code)
        if slot is None:
            extra.append((code, value))
        elif slot.repeat:
            lists.setdefault(slot.name, []).append(value)
        elif slot.name not in seen:  # a repeated non-repeatable field keeps the first value
            seen.add(slot.name)
            values[slot.name] = slot.kind.read(value, settings)
    for slot in layout.variable:
        if slot.repeat:
            values[slot.name] = tuple(lists.get(slot.name, ()))
        elif slot.name not in seen:
            values[slot.name] = slot.kind.empty if slot.required else slot.default
    return extra
