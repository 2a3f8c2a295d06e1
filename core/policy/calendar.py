"""Library-calendar arithmetic: local dates, open days, due dates and lateness."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from core.policy.rules import Calendar

# A calendar without one open day in a whole year (leap years included) is a configuration
# error; searching further would loop for ever on a calendar closed every weekday.
MAX_CLOSED_RUN_DAYS = 366

# Loans and hold-shelf periods end with the local day, not at the moment they started.
END_OF_DAY = dt.time(23, 59, 59)


def _require_aware(moment: dt.datetime) -> None:
    # A naive datetime would be read in the host's timezone: a hidden clock setting.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Return the aware `moment` in UTC; refuse a naive one."""
    _require_aware(moment)
    return moment.astimezone(dt.UTC)


def local_date(moment: dt.datetime, calendar: Calendar) -> dt.date:
    """Return the date of `moment` in the library's timezone."""
    _require_aware(moment)
    return moment.astimezone(ZoneInfo(calendar.timezone)).date()


def start_of_day(moment: dt.datetime, calendar: Calendar) -> dt.datetime:
    """Return the start (00:00 local, as UTC) of the local day of `moment`.

    Times kept at this granularity say which day, not which moment (PRIV-03).
    """
    local = dt.datetime.combine(
        local_date(moment, calendar), dt.time(0), ZoneInfo(calendar.timezone)
    )
    return local.astimezone(dt.UTC)


def next_open_day(day: dt.date, calendar: Calendar) -> dt.date:
    """Return `day` itself if the library is open then, else the first open day after it."""
    for offset in range(MAX_CLOSED_RUN_DAYS + 1):
        candidate = day + dt.timedelta(days=offset)
        if calendar.is_open(candidate):
            return candidate
    raise ValueError(f"calendar has no open day within {MAX_CLOSED_RUN_DAYS} days")


def _end_of_local_day(day: dt.date, calendar: Calendar) -> dt.datetime:
    local = dt.datetime.combine(day, END_OF_DAY, tzinfo=ZoneInfo(calendar.timezone))
    return local.astimezone(dt.UTC)


def due_date(now: dt.datetime, loan_days: int, calendar: Calendar) -> dt.datetime:
    """Return the end (23:59:59 local, as UTC) of the first open day `loan_days` days from now."""
    if loan_days < 0:
        raise ValueError("loan_days must not be negative")
    day = local_date(now, calendar) + dt.timedelta(days=loan_days)
    return _end_of_local_day(next_open_day(day, calendar), calendar)


def open_days_late(due: dt.datetime, returned: dt.datetime, calendar: Calendar) -> int:
    """Count open days after the due local date up to and including the return local date."""
    due_day = local_date(due, calendar)
    returned_day = local_date(returned, calendar)
    late = 0
    day = due_day + dt.timedelta(days=1)
    while day <= returned_day:
        if calendar.is_open(day):
            late += 1
        day += dt.timedelta(days=1)
    return late


def add_open_days(now: dt.datetime, days: int, calendar: Calendar) -> dt.datetime:
    """Return the end (as UTC) of the `days`-th open day after today; 0: today or next open day.

    Used for hold-shelf expiry: an item set aside today waits `days` whole open days.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day = local_date(now, calendar)
    if days == 0:
        return _end_of_local_day(next_open_day(day, calendar), calendar)
    for _ in range(days):
        day = next_open_day(day + dt.timedelta(days=1), calendar)
    return _end_of_local_day(day, calendar)
