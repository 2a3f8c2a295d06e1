"""PIN lockout after repeated failures (PRIV-09)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.policy.pins import after_failed_pin, pin_locked
from core.policy.rules import PinLockout

NOW = dt.datetime(2025, 3, 5, 10, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("locked_until", "expected"),
    [
        (None, False),
        (NOW + MINUTE, True),
        (NOW + dt.timedelta(seconds=1), True),
        (NOW, False),  # the lock ends at locked_until
        (NOW - MINUTE, False),
    ],
)
def test_pin_locked(locked_until: dt.datetime | None, expected: bool) -> None:
    assert pin_locked(locked_until, NOW) is expected


@pytest.mark.parametrize(
    ("failed_before", "lockout", "expected"),
    [
        (0, PinLockout(), (1, None)),
        (3, PinLockout(), (4, None)),
        (4, PinLockout(), (0, NOW + 15 * MINUTE)),  # the 5th failure locks, count restarts
        (0, PinLockout(max_attempts=1, lock_minutes=60), (0, NOW + 60 * MINUTE)),
        (1, PinLockout(max_attempts=3, lock_minutes=5), (2, None)),
        (2, PinLockout(max_attempts=3, lock_minutes=5), (0, NOW + 5 * MINUTE)),
    ],
)
def test_after_failed_pin(
    failed_before: int, lockout: PinLockout, expected: tuple[int, dt.datetime | None]
) -> None:
    assert after_failed_pin(failed_before, lockout, NOW) == expected


def test_five_failures_lock_for_fifteen_minutes_then_five_more_tries() -> None:
    lockout = PinLockout()
    count, locked_until = 0, None
    for attempt in range(1, 6):
        assert not pin_locked(locked_until, NOW)
        count, locked_until = after_failed_pin(count, lockout, NOW)
        assert (locked_until is None) is (attempt < 5)
    assert count == 0
    assert pin_locked(locked_until, NOW + 14 * MINUTE)
    assert not pin_locked(locked_until, NOW + 15 * MINUTE)
    # after the lock, four more failures do not lock again
    later = NOW + 16 * MINUTE
    for _ in range(4):
        count, locked_until = after_failed_pin(count, lockout, later)
        assert locked_until is None
    assert count == 4
