"""Overdue fines: open days late times the daily rate, capped per loan."""

from __future__ import annotations

import datetime as dt

from core.policy.calendar import open_days_late
from core.policy.rules import Calendar, LoanRule


def overdue_fine(
    due: dt.datetime, returned: dt.datetime, rule: LoanRule, calendar: Calendar
) -> int:
    """Return the fine in minor units: open days late x `fine_per_day`, at most `max_fine`.

    Days the library is closed are not counted: the patron could not have returned the item.
    """
    fine = open_days_late(due, returned, calendar) * rule.fine_per_day
    return max(0, min(fine, rule.max_fine))
