"""Retention rules as pure decisions: cut-offs from `now`, one rule per data class (PRIV-07)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.model.legal import RequestStatus
from core.policy.retention import (
    LEGAL_HOLD_STATUSES,
    RetentionRules,
    audit_event_expires,
    backup_expires,
    note_expires,
    patron_expires,
    reading_history_expires,
    sent_notice_expires,
    settled_fee_expires,
    years_before,
)

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
CUT = RetentionRules().cutoffs(NOW)
D = dt.date


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=dt.UTC)


def test_defaults_match_the_policy() -> None:
    rules = RetentionRules()
    assert (
        rules.reading_history_inactive_years,
        rules.settled_fee_days,
        rules.sent_notice_days,
        rules.expired_patron_years,
        rules.inactive_patron_years,
        rules.audit_event_years,
    ) == (2, 90, 30, 2, 3, 2)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (D(2026, 3, 4), 2, D(2024, 3, 4)),
        (D(2024, 2, 29), 1, D(2023, 2, 28)),  # no 29 February in 2023
        (D(2024, 2, 29), 4, D(2020, 2, 29)),
        (D(2026, 1, 1), 0, D(2026, 1, 1)),
    ],
)
def test_years_before(day: dt.date, years: int, expected: dt.date) -> None:
    assert years_before(day, years) == expected


@pytest.mark.parametrize(
    ("last_activity", "consent", "expires"),
    [
        (D(2026, 3, 1), True, False),  # active, opted in: kept
        (D(2024, 3, 4), True, False),  # exactly two years: kept
        (D(2024, 3, 3), True, True),  # more than two years inactive: removed
        (D(2026, 3, 1), False, True),  # no consent: never kept (PRIV-02)
    ],
)
def test_reading_history(last_activity: dt.date, consent: bool, expires: bool) -> None:
    assert reading_history_expires(last_activity, consent, CUT) is expires


@pytest.mark.parametrize(
    ("settled", "settled_at", "expires"),
    [
        (True, at(2025, 12, 4, 9), True),  # 90 days and an hour ago
        (True, at(2025, 12, 4, 11), False),  # not quite 90 days
        (True, None, False),
        (False, at(2020, 1, 1), False),  # an open fee is never removed by this rule
    ],
)
def test_settled_fees(settled: bool, settled_at: dt.datetime | None, expires: bool) -> None:
    assert settled_fee_expires(settled, settled_at, CUT) is expires


@pytest.mark.parametrize(
    ("sent_at", "expires"),
    [(at(2026, 2, 2, 9), True), (at(2026, 2, 2, 11), False), (at(2026, 3, 4), False)],
)
def test_sent_notices(sent_at: dt.datetime, expires: bool) -> None:
    assert sent_notice_expires(sent_at, CUT) is expires


@pytest.mark.parametrize(
    ("expires_on", "expires"), [(None, False), (D(2026, 3, 4), False), (D(2026, 3, 3), True)]
)
def test_staff_notes(expires_on: dt.date | None, expires: bool) -> None:
    assert note_expires(expires_on, CUT) is expires


@pytest.mark.parametrize(
    ("card_expires", "last_activity", "open_business", "requests", "expires"),
    [
        (D(2024, 3, 3), D(2026, 1, 1), False, (), True),  # expired over two years ago
        (D(2024, 3, 4), D(2026, 1, 1), False, (), False),  # expired exactly two years ago
        (D(2030, 1, 1), D(2023, 3, 3), False, (), True),  # inactive over three years
        (D(2030, 1, 1), D(2023, 3, 4), False, (), False),
        (D(2020, 1, 1), D(2020, 1, 1), True, (), False),  # an open loan, hold or fee keeps it
        (D(2030, 1, 1), D(2026, 3, 1), False, (), False),
        # Legal hold (PRIV-13): a request under way keeps the patron, a settled one does not.
        (D(2020, 1, 1), D(2020, 1, 1), False, ("received",), False),
        (D(2020, 1, 1), D(2020, 1, 1), False, ("approved",), False),
        (D(2020, 1, 1), D(2020, 1, 1), False, ("disclosed",), False),
        (D(2020, 1, 1), D(2020, 1, 1), False, ("closed", "rejected"), True),
        (D(2020, 1, 1), D(2020, 1, 1), False, ("closed", "approved"), False),
    ],
)
def test_patrons(
    card_expires: dt.date,
    last_activity: dt.date,
    open_business: bool,
    requests: tuple[str, ...],
    expires: bool,
) -> None:
    assert (
        patron_expires(
            card_expires, last_activity, open_business, CUT, legal_request_statuses=requests
        )
        is expires
    )


def test_the_legal_hold_states_are_request_states() -> None:
    held = {s.value for s in RequestStatus} - {"closed", "rejected"}
    assert set(LEGAL_HOLD_STATUSES) == held


@pytest.mark.parametrize(
    ("event_at", "expires"), [(at(2024, 3, 4, 9), True), (at(2024, 3, 4, 10), False)]
)
def test_audit_events(event_at: dt.datetime, expires: bool) -> None:
    assert audit_event_expires(event_at, CUT) is expires


def test_rules_are_configurable_and_move_the_cutoffs() -> None:
    cut = RetentionRules(sent_notice_days=7, expired_patron_years=5).cutoffs(NOW)
    assert cut.sent_notices_before == NOW - dt.timedelta(days=7)
    assert cut.expired_patrons_before == D(2021, 3, 4)


def test_shortest_period_decides_backup_age() -> None:
    rules = RetentionRules()
    assert rules.shortest_period() == dt.timedelta(days=30)
    assert backup_expires(NOW - dt.timedelta(days=31), NOW, rules)
    assert not backup_expires(NOW - dt.timedelta(days=29), NOW, rules)
    assert RetentionRules(settled_fee_days=10).shortest_period() == dt.timedelta(days=10)


def test_invalid_rules_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetentionRules(settled_fee_days=-1)
    with pytest.raises(ValueError, match="naive"):
        RetentionRules().cutoffs(dt.datetime(2026, 1, 1))
