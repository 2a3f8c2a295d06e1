"""Overdue fines: only open days count, and a loan's fine is capped."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.policy.fines import overdue_fine
from core.policy.rules import Calendar, LoanRule

UTC = dt.UTC
CALENDAR = Calendar(closed_dates=frozenset({dt.date(2025, 3, 10)}))  # Sundays and one Monday
ADULT_BOOK = LoanRule()  # 10 a day, at most 500
VIDEO = LoanRule(loan_days=7, renewals=1, fine_per_day=25, max_fine=500)
CHILD_BOOK = LoanRule(fine_per_day=0, max_fine=0)
# Wednesday 5 March 2025, end of the day
DUE = dt.datetime(2025, 3, 5, 23, 59, 59, tzinfo=UTC)


def returned(day: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("back", "rule", "expected"),
    [
        (returned(4), ADULT_BOOK, 0),  # early
        (returned(5), ADULT_BOOK, 0),  # on the due day
        (returned(6), ADULT_BOOK, 10),  # Thursday
        (returned(8), ADULT_BOOK, 30),  # Thu, Fri, Sat
        (returned(9), ADULT_BOOK, 30),  # Sunday closed: not counted
        (returned(10), ADULT_BOOK, 30),  # the Monday holiday is not counted either
        (returned(11), ADULT_BOOK, 40),  # Tuesday
        (returned(12), VIDEO, 125),  # 5 open days at 25
        (returned(2, month=5), ADULT_BOOK, 490),  # 49 open days: just under the cap
        (returned(3, month=5), ADULT_BOOK, 500),  # 50 open days: exactly the cap
        (returned(1, month=6), ADULT_BOOK, 500),  # long after: capped
        (returned(1, month=6), VIDEO, 500),  # capped at the rule's own maximum
        (returned(1, month=6), CHILD_BOOK, 0),  # children's books carry no fines
    ],
)
def test_overdue_fine(back: dt.datetime, rule: LoanRule, expected: int) -> None:
    assert overdue_fine(DUE, back, rule, CALENDAR) == expected


@given(
    days_after=st.integers(min_value=-30, max_value=400),
    fine_per_day=st.integers(min_value=0, max_value=1000),
    max_fine=st.integers(min_value=0, max_value=10_000),
)
def test_fine_is_between_zero_and_the_cap(
    days_after: int, fine_per_day: int, max_fine: int
) -> None:
    rule = LoanRule(fine_per_day=fine_per_day, max_fine=max_fine)
    fine = overdue_fine(DUE, DUE + dt.timedelta(days=days_after), rule, CALENDAR)
    assert 0 <= fine <= max_fine
    if fine < max_fine:
        # below the cap the fine is a whole number of days
        assert fine_per_day == 0 or fine % fine_per_day == 0
