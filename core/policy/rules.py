"""Value types of the library's circulation policy (loan rules, calendar, limits, lockout)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

# Money is always an integer count of the currency's minor unit (cents, pence).


@dataclass(frozen=True)
class LoanRule:
    """What one patron category may do with one media type."""

    loan_days: int = 21
    renewals: int = 2
    max_loans: int = 30  # of this media type at once
    fine_per_day: int = 10  # minor units per open day late
    max_fine: int = 500  # minor units, per loan
    hold_shelf_days: int = 7


@dataclass(frozen=True)
class BlockLimits:
    """Thresholds above which a patron is blocked from charging items."""

    max_loans: int = 50  # all media types together
    max_overdue: int = 10
    max_fees: int = 1000  # outstanding minor units at which charging is denied


@dataclass(frozen=True)
class Calendar:
    """Days the library is closed; due dates never fall on them and fines do not accrue."""

    timezone: str = "UTC"
    closed_weekdays: frozenset[int] = frozenset({6})  # Monday=0 ... Sunday=6
    closed_dates: frozenset[dt.date] = frozenset()

    def is_open(self, day: dt.date) -> bool:
        return day.weekday() not in self.closed_weekdays and day not in self.closed_dates


@dataclass(frozen=True)
class BarcodeRule:
    """Optional validation of barcodes; by default barcodes are opaque strings."""

    pattern: str | None = None  # a full-match regular expression
    luhn: bool = False  # the 14-digit library check digit (docs/barcodes.md)


@dataclass(frozen=True)
class PinLockout:
    """Failed PIN attempts lock the patron for a while (PRIV-09)."""

    max_attempts: int = 5
    lock_minutes: int = 15


def _default_rules() -> Mapping[str, Mapping[str, LoanRule]]:
    adult = {
        "book": LoanRule(),
        "magazine": LoanRule(loan_days=7, renewals=1, fine_per_day=5, max_fine=200),
        "audio": LoanRule(loan_days=14, renewals=2),
        "video": LoanRule(loan_days=7, renewals=1, fine_per_day=25, max_fine=500),
        "cd": LoanRule(loan_days=14, renewals=2),
    }
    child = {
        "book": LoanRule(fine_per_day=0, max_fine=0, max_loans=20),
        "magazine": LoanRule(loan_days=7, renewals=1, fine_per_day=0, max_fine=0, max_loans=10),
        "audio": LoanRule(loan_days=14, fine_per_day=0, max_fine=0, max_loans=10),
        "video": LoanRule(loan_days=7, renewals=1, fine_per_day=0, max_fine=0, max_loans=5),
        "cd": LoanRule(loan_days=14, fine_per_day=0, max_fine=0, max_loans=10),
    }
    return {"adult": adult, "child": child}


# Short names of the SIP2 media types (docs/sip2.md, "Value sets"); the codes live in sip2.
MEDIA_TYPES: tuple[str, ...] = (
    "other",
    "book",
    "magazine",
    "bound_journal",
    "audio",
    "video",
    "cd",
    "diskette",
    "book_with_diskette",
    "book_with_cd",
    "book_with_audio",
)


@dataclass(frozen=True)
class CirculationRules:
    """Loan rules per patron category x media type, with a fallback, plus limits and calendar."""

    default: LoanRule = LoanRule()
    rules: Mapping[str, Mapping[str, LoanRule]] = field(default_factory=_default_rules)
    limits: BlockLimits = BlockLimits()
    calendar: Calendar = Calendar()
    barcodes: BarcodeRule = BarcodeRule()
    pin_lockout: PinLockout = PinLockout()
    categories: tuple[str, ...] = ("adult", "child")
    media_types: tuple[str, ...] = MEDIA_TYPES
    branches: tuple[str, ...] = ("main",)

    def rule_for(self, category: str, media_type: str) -> LoanRule:
        return self.rules.get(category, {}).get(media_type, self.default)
