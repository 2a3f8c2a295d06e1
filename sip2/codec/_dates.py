"""SIP2 dates: the 18-character YYYYMMDDZZZZHHMMSS form, read leniently, and due-date formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from ._errors import LocalProtocolError
from ._settings import DUE_DATE_SIP2, DUE_DATE_SIP2_UTC

DATE_LENGTH: Final = 18
BLANK_DATE: Final = " " * DATE_LENGTH  # "no date", e.g. an nb due date that is not set

_LOCAL_ZONE: Final = "    "  # four blanks: the terminal's local time
_UTC_ZONE: Final = "   Z"
_UTC_NAMES: Final = frozenset({"Z", "UTC", "GMT"})
# Lenient reading: the zone may be 0-4 non-digit characters ("    ", "   Z", "EST ", none).
_SIP2_DATE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})(\D{0,4})(\d{2})(\d{2})(\d{2})", re.ASCII)


def format_date(moment: datetime | None) -> str:
    """Write an 18-character SIP2 date.

    Naive datetimes are local time (four blanks); aware ones are converted to UTC and
    written with "   Z". None is 18 blanks.
    """
    if moment is None:
        return BLANK_DATE
    zone = _LOCAL_ZONE
    if moment.utcoffset() is not None:
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise LocalProtocolError("date out of range once converted to UTC") from None
        zone = _UTC_ZONE
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}{zone}"
        f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    )


def parse_date(text: str) -> datetime | None:
    """Read a SIP2 date leniently; None for blanks or anything unreadable.

    Accepts the 18-character form (zone "   Z"/"UTC"/"GMT" gives an aware UTC datetime,
    any other zone a naive one), the same without zone, and ISO 8601.
    """
    stripped = text.strip()
    if not stripped:
        return None
    match = _SIP2_DATE.fullmatch(stripped)
    if match is not None:
        year, month, day, zone, hour, minute, second = match.groups()
        tzinfo = UTC if zone.strip().upper() in _UTC_NAMES else None
        try:
            return datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tzinfo
            )
        except ValueError:
            return None
    try:
        return datetime.fromisoformat(stripped)
    except ValueError:
        return None


def format_due_date(moment: datetime | None, due_date_format: str) -> str:
    """Write the AH due date in the terminal's format; None is an empty value."""
    if moment is None:
        return ""
    if due_date_format == DUE_DATE_SIP2:
        return format_date(moment)
    if due_date_format == DUE_DATE_SIP2_UTC:
        if moment.utcoffset() is None:
            # The codec never reads the host's zone, so a naive time has no known UTC value.
            raise LocalProtocolError("due date format sip2_utc needs an aware datetime")
        return format_date(moment)
    return moment.strftime(due_date_format)


def parse_due_date(text: str, due_date_format: str) -> datetime | None:
    """Read an AH due date: SIP2 or ISO form first, then the terminal's strftime pattern."""
    parsed = parse_date(text)
    if parsed is not None or due_date_format in (DUE_DATE_SIP2, DUE_DATE_SIP2_UTC):
        return parsed
    try:
        return datetime.strptime(text.strip(), due_date_format)
    except ValueError:
        return None
