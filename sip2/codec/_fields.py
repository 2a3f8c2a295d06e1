"""Field kinds of SIP2 and the dataclass metadata that turns message classes into wire tables.

A message class declares each attribute with ``field(metadata=fixed(KIND))`` (fixed-length
fields, in wire order) or ``field(metadata=var("XX", KIND))`` / ``repeated("XX")`` (variable
fields). ``layout_of`` reads those declarations once; parse and encode are driven by it.
A variable field without a dataclass default is required: it is always written (None as an
empty value) and, when a peer leaves it out, parsing fills it with the kind's empty value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import ClassVar, Final, TypeVar

from ._dates import (
    DATE_LENGTH,
    format_date,
    format_due_date,
    parse_date,
    parse_due_date,
)
from ._errors import LocalProtocolError
from ._flags import (
    PATRON_STATUS_LENGTH,
    SUMMARY_LENGTH,
    PatronStatus,
    Summary,
    supported_messages_from_wire,
    supported_messages_to_wire,
)
from ._settings import TerminalSettings

T = TypeVar("T")
Reader = Callable[[str, TerminalSettings], object]
Writer = Callable[[object, TerminalSettings], str]

_SPEC_KEY: Final = "sip2"


@dataclass(frozen=True, kw_only=True)
class Message:
    """A SIP2 message. Subclasses set COMMAND to their 2-digit code.

    ``extra`` holds unknown and extension fields (code, value) in wire order: parsing keeps
    them and encoding writes them after the known fields, so vendor extensions round-trip.
    It stays out of repr because extensions may carry personal data (PRIV-16).
    """

    COMMAND: ClassVar[str] = ""
    extra: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class FixedKind:
    """How a fixed-length field reads and writes; ``read`` raises ValueError on garbage."""

    width: int
    read: Reader
    write: Writer


@dataclass(frozen=True)
class VariableKind:
    """How a variable field reads and writes; ``empty`` stands in for a missing required one."""

    read: Reader
    write: Writer
    empty: object = None


def _want(value: object, expected: type[T], what: str) -> T:
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise LocalProtocolError(f"expected {what}, got {type(value).__name__}")
    return value


def _want_date(value: object) -> datetime | None:
    return None if value is None else _want(value, datetime, "a datetime or None")


def _read_flag(text: str, _settings: TerminalSettings) -> bool | None:
    upper = text.upper()
    return True if upper == "Y" else False if upper == "N" else None


def _write_flag(value: object, _settings: TerminalSettings) -> str:
    return "Y" if _want(value, bool, "a bool") else "N"


def _write_flag_or_unknown(value: object, settings: TerminalSettings) -> str:
    return "U" if value is None else _write_flag(value, settings)


def _read_text(text: str, _settings: TerminalSettings) -> str:
    return text


def _write_text(value: object, _settings: TerminalSettings) -> str:
    return _want(value, str, "a str")


# Fixed-length kinds.
YES_NO: Final = FixedKind(1, lambda text, _s: text in ("Y", "y"), _write_flag)
YES_NO_UNKNOWN: Final = FixedKind(1, _read_flag, _write_flag_or_unknown)  # "U" is None
ONE_ZERO: Final = FixedKind(
    1, lambda text, _s: text == "1", lambda value, _s: "1" if _want(value, bool, "a bool") else "0"
)
DATE: Final = FixedKind(
    DATE_LENGTH, lambda text, _s: parse_date(text), lambda value, _s: format_date(_want_date(value))
)
PATRON_STATUS: Final = FixedKind(
    PATRON_STATUS_LENGTH,
    lambda text, _s: PatronStatus.from_wire(text),
    lambda value, _s: _want(value, PatronStatus, "a PatronStatus").to_wire(),
)
SUMMARY: Final = FixedKind(
    SUMMARY_LENGTH,
    lambda text, _s: Summary.from_wire(text),
    lambda value, _s: _want(value, Summary, "a Summary").to_wire(),
)


@functools.cache
def fixed_text(width: int) -> FixedKind:
    """A fixed field written as given; the value must have exactly ``width`` characters."""

    def write(value: object, _settings: TerminalSettings) -> str:
        text = _want(value, str, "a str")
        if len(text) != width:
            raise LocalProtocolError(f"expected exactly {width} characters, got {len(text)}")
        return text

    return FixedKind(width, _read_text, write)


@functools.cache
def fixed_number(width: int) -> FixedKind:
    """A zero-padded count; blanks read as 0 (some systems blank unknown counts)."""

    def read(text: str, _settings: TerminalSettings) -> int:
        digits = text.strip()
        if not digits:
            return 0
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError("not a number")
        return int(digits)

    return FixedKind(width, read, _number_writer(width))


def _number_writer(width: int) -> Writer:
    def write(value: object, _settings: TerminalSettings) -> str:
        number = _want(value, int, "an int")
        if number < 0 or (width and number >= 10**width):
            raise LocalProtocolError(f"{number} does not fit in {width or 'any'} digits")
        return f"{number:0{width}d}"

    return write


# Variable kinds.
TEXT: Final = VariableKind(_read_text, _write_text, "")
FLAG: Final = VariableKind(_read_flag, _write_flag)  # Y/N; anything else reads as None
VAR_DATE: Final = VariableKind(
    lambda text, _s: parse_date(text),
    lambda value, _s: "" if value is None else format_date(_want_date(value)),
)
DUE_DATE: Final = VariableKind(
    lambda text, settings: parse_due_date(text, settings.due_date_format),
    lambda value, settings: format_due_date(_want_date(value), settings.due_date_format),
)
SUPPORTED_MESSAGES: Final = VariableKind(
    lambda text, _s: supported_messages_from_wire(text),
    lambda value, _s: supported_messages_to_wire(_want(value, frozenset, "a frozenset")),
    frozenset(),
)


@functools.cache
def number(width: int = 0) -> VariableKind:
    """A number in a variable field (zero-padded to ``width``); unreadable reads as None."""

    def read(text: str, _settings: TerminalSettings) -> int | None:
        digits = text.strip()
        return int(digits) if digits.isascii() and digits.isdigit() else None

    return VariableKind(read, _number_writer(width))


@dataclass(frozen=True)
class _FixedSpec:
    kind: FixedKind


@dataclass(frozen=True)
class _VariableSpec:
    code: str
    kind: VariableKind
    repeat: bool


def fixed(kind: FixedKind) -> Mapping[str, object]:
    """Metadata for a fixed-length field; fixed fields are written in declaration order."""
    return {_SPEC_KEY: _FixedSpec(kind)}


def var(code: str, kind: VariableKind = TEXT) -> Mapping[str, object]:
    """Metadata for a variable field ``code`` read and written with ``kind``."""
    return {_SPEC_KEY: _VariableSpec(code, kind, repeat=False)}


def repeated(code: str) -> Mapping[str, object]:
    """Metadata for a repeatable text field (AF, AG, AS...): a tuple of values."""
    return {_SPEC_KEY: _VariableSpec(code, TEXT, repeat=True)}


@dataclass(frozen=True)
class FixedSlot:
    """A fixed field of one message class."""

    name: str
    kind: FixedKind


@dataclass(frozen=True)
class VariableSlot:
    """A variable field of one message class."""

    name: str
    code: str
    kind: VariableKind
    repeat: bool
    required: bool
    default: object
    plain_text: bool = False  # TEXT kind: a str value is written as it is


@dataclass(frozen=True)
class Layout:
    """The wire table of one message class."""

    fixed: tuple[FixedSlot, ...]
    variable: tuple[VariableSlot, ...]
    by_code: Mapping[str, VariableSlot]

    @functools.cached_property
    def fixed_width(self) -> int:
        """Characters taken by the fixed fields after the command code."""
        return sum(slot.kind.width for slot in self.fixed)


_LAYOUTS: dict[type[Message], Layout] = {}


def layout_of(message_type: type[Message]) -> Layout:
    """Return the wire table of ``message_type``, built once from its field metadata."""
    layout = _LAYOUTS.get(message_type)
    if layout is None:
        layout = _LAYOUTS[message_type] = _build_layout(message_type)
    return layout


def _build_layout(message_type: type[Message]) -> Layout:
    fixed_slots: list[FixedSlot] = []
    variable_slots: list[VariableSlot] = []
    for declared in fields(message_type):
        spec = declared.metadata.get(_SPEC_KEY)
        if isinstance(spec, _FixedSpec):
            fixed_slots.append(FixedSlot(declared.name, spec.kind))
        elif isinstance(spec, _VariableSpec):
            required = declared.default is MISSING and declared.default_factory is MISSING
            default = None if declared.default is MISSING else declared.default
            variable_slots.append(
                VariableSlot(
                    declared.name,
                    spec.code,
                    spec.kind,
                    spec.repeat,
                    required,
                    default,
                    plain_text=spec.kind is TEXT,
                )
            )
    by_code = {slot.code: slot for slot in variable_slots}
    if len(by_code) != len(variable_slots):
        raise TypeError(f"{message_type.__name__} declares a field code twice")
    return Layout(tuple(fixed_slots), tuple(variable_slots), by_code)
