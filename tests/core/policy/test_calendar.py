"""Local dates, open days, due dates and lateness on the library calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.policy.calendar import (
    add_open_days,
    as_utc,
    due_date,
    local_date,
    next_open_day,
    open_days_late,
)
from core.policy.rules import Calendar

UTC = dt.UTC
CHICAGO = ZoneInfo("America/Chicago")
# Wednesday 5 March 2025; US daylight saving time starts on Sunday 9 March 2025.
NOW = dt.datetime(2025, 3, 5, 10, 0, tzinfo=UTC)

SUNDAY_CLOSED = Calendar()  # UTC, Sunday closed
WITH_HOLIDAY = Calendar(closed_dates=frozenset({dt.date(2025, 3, 10)}))
CHICAGO_CAL = Calendar(timezone="America/Chicago")
EVERY_DAY_OPEN = Calendar(closed_weekdays=frozenset())


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "loan_days", "calendar", "expected"),
    [
        # an open Wednesday three weeks on
        (NOW, 21, SUNDAY_CLOSED, utc(2025, 3, 26, 23, 59, 59)),
        # zero days: the end of today
        (NOW, 0, SUNDAY_CLOSED, utc(2025, 3, 5, 23, 59, 59)),
        # lands on Sunday 9 March, closed: moved to Monday
        (NOW, 4, SUNDAY_CLOSED, utc(2025, 3, 10, 23, 59, 59)),
        # Sunday closed and Monday a holiday: moved to Tuesday
        (NOW, 4, WITH_HOLIDAY, utc(2025, 3, 11, 23, 59, 59)),
        # the holiday alone, on a Monday reached directly
        (NOW, 5, WITH_HOLIDAY, utc(2025, 3, 11, 23, 59, 59)),
        # an open library does not move the Sunday
        (NOW, 4, EVERY_DAY_OPEN, utc(2025, 3, 9, 23, 59, 59)),
        # Chicago, across the spring DST change: 23:59:59 CDT is UTC-5
        (NOW, 7, CHICAGO_CAL, utc(2025, 3, 13, 4, 59, 59)),
        # Chicago, before the change: 23:59:59 CST is UTC-6
        (NOW, 2, CHICAGO_CAL, utc(2025, 3, 8, 5, 59, 59)),
        # Chicago, lands on the DST Sunday (closed): Monday in CDT
        (NOW, 4, CHICAGO_CAL, utc(2025, 3, 11, 4, 59, 59)),
        # Chicago evening is already the next day in UTC: the local date counts
        (utc(2025, 3, 6, 3, 0), 1, CHICAGO_CAL, utc(2025, 3, 7, 5, 59, 59)),
        # Chicago, across the autumn change (2 November): back to CST
        (utc(2025, 10, 29, 15, 0), 7, CHICAGO_CAL, utc(2025, 11, 6, 5, 59, 59)),
    ],
)
def test_due_date(
    now: dt.datetime, loan_days: int, calendar: Calendar, expected: dt.datetime
) -> None:
    due = due_date(now, loan_days, calendar)
    assert due == expected
    assert due.utcoffset() == dt.timedelta(0)


def test_due_date_is_end_of_local_day_in_chicago() -> None:
    due = due_date(NOW, 7, CHICAGO_CAL).astimezone(CHICAGO)
    assert (due.date(), due.time()) == (dt.date(2025, 3, 12), dt.time(23, 59, 59))


@pytest.mark.parametrize(
    ("moment", "calendar", "expected"),
    [
        (NOW, SUNDAY_CLOSED, dt.date(2025, 3, 5)),
        (utc(2025, 3, 6, 3, 0), CHICAGO_CAL, dt.date(2025, 3, 5)),
        (utc(2025, 3, 6, 6, 0), CHICAGO_CAL, dt.date(2025, 3, 6)),
        # 00:30 in Berlin is still the previous day in a UTC library
        (
            dt.datetime(2025, 3, 6, 0, 30, tzinfo=ZoneInfo("Europe/Berlin")),
            SUNDAY_CLOSED,
            dt.date(2025, 3, 5),
        ),
    ],
)
def test_local_date(moment: dt.datetime, calendar: Calendar, expected: dt.date) -> None:
    assert local_date(moment, calendar) == expected


@pytest.mark.parametrize(
    ("day", "calendar", "expected"),
    [
        (dt.date(2025, 3, 5), SUNDAY_CLOSED, dt.date(2025, 3, 5)),
        (dt.date(2025, 3, 9), SUNDAY_CLOSED, dt.date(2025, 3, 10)),
        (dt.date(2025, 3, 9), WITH_HOLIDAY, dt.date(2025, 3, 11)),
        (dt.date(2025, 3, 10), WITH_HOLIDAY, dt.date(2025, 3, 11)),
    ],
)
def test_next_open_day(day: dt.date, calendar: Calendar, expected: dt.date) -> None:
    assert next_open_day(day, calendar) == expected


def _closed_for(start: dt.date, days: int) -> Calendar:
    return Calendar(
        closed_weekdays=frozenset(),
        closed_dates=frozenset(start + dt.timedelta(days=n) for n in range(days)),
    )


def test_next_open_day_finds_day_after_a_year_long_closure() -> None:
    start = dt.date(2024, 1, 1)
    assert next_open_day(start, _closed_for(start, 366)) == start + dt.timedelta(days=366)


@pytest.mark.parametrize(
    "calendar",
    [
        Calendar(closed_weekdays=frozenset(range(7))),
        _closed_for(dt.date(2024, 1, 1), 367),
    ],
)
def test_next_open_day_refuses_a_calendar_without_open_days(calendar: Calendar) -> None:
    with pytest.raises(ValueError, match="no open day"):
        next_open_day(dt.date(2024, 1, 1), calendar)


@pytest.mark.parametrize(
    ("due", "returned", "calendar", "expected"),
    [
        # early, and later on the due day itself
        (utc(2025, 3, 5, 23, 59, 59), utc(2025, 3, 4, 12, 0), SUNDAY_CLOSED, 0),
        (utc(2025, 3, 5, 23, 59, 59), utc(2025, 3, 5, 23, 59, 59), SUNDAY_CLOSED, 0),
        # the next morning
        (utc(2025, 3, 5, 23, 59, 59), utc(2025, 3, 6, 0, 0, 1), SUNDAY_CLOSED, 1),
        # due Saturday, back Monday: Sunday is not counted
        (utc(2025, 3, 8, 23, 59, 59), utc(2025, 3, 10, 9, 0), SUNDAY_CLOSED, 1),
        # due Saturday, back on Sunday: nothing open in between
        (utc(2025, 3, 8, 23, 59, 59), utc(2025, 3, 9, 9, 0), SUNDAY_CLOSED, 0),
        # due Saturday, Sunday and the Monday holiday closed, back Tuesday
        (utc(2025, 3, 8, 23, 59, 59), utc(2025, 3, 11, 9, 0), WITH_HOLIDAY, 1),
        # two weeks late: 14 days minus two Sundays
        (utc(2025, 3, 5, 23, 59, 59), utc(2025, 3, 19, 9, 0), SUNDAY_CLOSED, 12),
        # Chicago: 23:00 CDT on the due day is already the next day in UTC, still not late
        (utc(2025, 3, 13, 4, 59, 59), utc(2025, 3, 13, 4, 0), CHICAGO_CAL, 0),
        # Chicago: 01:00 CDT the next day is late
        (utc(2025, 3, 13, 4, 59, 59), utc(2025, 3, 13, 6, 0), CHICAGO_CAL, 1),
    ],
)
def test_open_days_late(
    due: dt.datetime, returned: dt.datetime, calendar: Calendar, expected: int
) -> None:
    assert open_days_late(due, returned, calendar) == expected


@pytest.mark.parametrize(
    ("now", "days", "calendar", "expected"),
    [
        # Thu, Fri, Sat, (Sun), Mon, Tue, Wed, Thu
        (NOW, 7, SUNDAY_CLOSED, utc(2025, 3, 13, 23, 59, 59)),
        (NOW, 7, WITH_HOLIDAY, utc(2025, 3, 14, 23, 59, 59)),
        # Saturday plus one open day skips the closed Sunday
        (utc(2025, 3, 8, 12, 0), 1, SUNDAY_CLOSED, utc(2025, 3, 10, 23, 59, 59)),
        # zero: the end of today, or of the next open day when today is closed
        (NOW, 0, SUNDAY_CLOSED, utc(2025, 3, 5, 23, 59, 59)),
        (utc(2025, 3, 9, 12, 0), 0, SUNDAY_CLOSED, utc(2025, 3, 10, 23, 59, 59)),
        # Chicago, over the DST Sunday
        (NOW, 4, CHICAGO_CAL, utc(2025, 3, 11, 4, 59, 59)),
    ],
)
def test_add_open_days(
    now: dt.datetime, days: int, calendar: Calendar, expected: dt.datetime
) -> None:
    assert add_open_days(now, days, calendar) == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda: due_date(NOW, -1, SUNDAY_CLOSED),
        lambda: add_open_days(NOW, -1, SUNDAY_CLOSED),
        lambda: due_date(dt.datetime(2025, 3, 5, 10, 0), 21, SUNDAY_CLOSED),
        lambda: local_date(dt.datetime(2025, 3, 5, 10, 0), CHICAGO_CAL),
        lambda: as_utc(dt.datetime(2025, 3, 5, 10, 0)),
    ],
    ids=["negative-loan", "negative-days", "naive-due", "naive-local", "naive-utc"],
)
def test_refuses_bad_arguments(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="must"):
        call()


HOLIDAYS_CHICAGO = Calendar(
    timezone="America/Chicago",
    closed_dates=frozenset({dt.date(2025, 7, 4), dt.date(2025, 11, 27), dt.date(2025, 12, 25)}),
)


@given(
    now=st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2026, 12, 31),
        timezones=st.just(UTC),
    ),
    loan_days=st.integers(min_value=0, max_value=60),
)
def test_due_date_is_end_of_an_open_local_day_not_before_the_loan_period(
    now: dt.datetime, loan_days: int
) -> None:
    due = due_date(now, loan_days, HOLIDAYS_CHICAGO)
    local = due.astimezone(CHICAGO)
    assert HOLIDAYS_CHICAGO.is_open(local.date())
    assert local.time() == dt.time(23, 59, 59)
    earliest = local_date(now, HOLIDAYS_CHICAGO) + dt.timedelta(days=loan_days)
    # at most a closed Sunday and a holiday in a row
    assert earliest <= local.date() <= earliest + dt.timedelta(days=2)
    assert open_days_late(due, due, HOLIDAYS_CHICAGO) == 0
    next_open = next_open_day(local.date() + dt.timedelta(days=1), HOLIDAYS_CHICAGO)
    returned = dt.datetime.combine(next_open, dt.time(9, 0), tzinfo=CHICAGO)
    assert open_days_late(due, returned, HOLIDAYS_CHICAGO) == 1
