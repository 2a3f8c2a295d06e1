"""PIN lockout after repeated failures (PRIV-09)."""

from __future__ import annotations

import datetime as dt

from core.policy.rules import PinLockout


def pin_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    """Return whether PIN attempts are refused at `now`."""
    return locked_until is not None and now < locked_until


def after_failed_pin(
    failed_attempts: int, lockout: PinLockout, now: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """Return the new failure count and, once it reaches max_attempts, the lock's end.

    The count restarts at 0 when the lock is set, so after the lock ends the patron gets
    max_attempts tries again rather than being locked by the next single mistake.
    """
    attempts = failed_attempts + 1
    if attempts >= lockout.max_attempts:
        return 0, now + dt.timedelta(minutes=lockout.lock_minutes)
    return attempts, None
