"""Retention rules per data class and the pure cut-off decisions of the purge (PRIV-07)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

DAYS_PER_YEAR = 365  # used only to compare periods of different units (shortest period)
# PRIV-13 with PRIV-07: a patron named in a legal request in one of these states (received,
# approved, disclosed: not yet closed or rejected) is kept; destroying records a court asked
# about is not the library's call. The purge's SQL uses this same tuple.
LEGAL_HOLD_STATUSES = ("received", "approved", "disclosed")


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Cutoffs:
    """The boundaries one purge run applies: data dated before a cut-off goes."""

    reading_history_inactive_before: dt.date  # patrons inactive since before: history removed
    settled_fees_before: dt.datetime  # paid or waived fees settled before: removed
    sent_notices_before: dt.datetime  # notices sent before: removed
    expired_patrons_before: dt.date  # cards expired before: patron removed (if nothing is open)
    inactive_patrons_before: dt.date  # last activity before: patron removed (if nothing is open)
    notes_expired_before: dt.date  # staff notes whose expiry day is before: cleared (PRIV-06)
    audit_events_before: dt.datetime  # audit events before: removed behind a checkpoint


@dataclass(frozen=True)
class RetentionRules:
    """How long each data class is kept (PRIV-07); anonymous statistics are always kept."""

    reading_history_inactive_years: int = 2
    settled_fee_days: int = 90
    sent_notice_days: int = 30
    expired_patron_years: int = 2
    inactive_patron_years: int = 3
    audit_event_years: int = 2

    def __post_init__(self) -> None:
        for name in (
            "reading_history_inactive_years",
            "settled_fee_days",
            "sent_notice_days",
            "expired_patron_years",
            "inactive_patron_years",
            "audit_event_years",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"retention {name} must not be negative")

    def cutoffs(self, now: dt.datetime) -> Cutoffs:
        """The cut-offs of a run at `now` (an aware datetime; days are taken in UTC)."""
        if now.tzinfo is None:
            raise ValueError("naive datetime given as now")
        now = now.astimezone(dt.UTC)
        today = now.date()
        return Cutoffs(
            reading_history_inactive_before=years_before(
                today, self.reading_history_inactive_years
            ),
            settled_fees_before=now - dt.timedelta(days=self.settled_fee_days),
            sent_notices_before=now - dt.timedelta(days=self.sent_notice_days),
            expired_patrons_before=years_before(today, self.expired_patron_years),
            inactive_patrons_before=years_before(today, self.inactive_patron_years),
            notes_expired_before=today,
            audit_events_before=dt.datetime.combine(
                years_before(today, self.audit_event_years), now.timetz()
            ),
        )

    def shortest_period(self) -> dt.timedelta:
        """The shortest retention of any removed data class: backups older than it go (PRIV-07)."""
        days = (
            self.reading_history_inactive_years * DAYS_PER_YEAR,
            self.settled_fee_days,
            self.sent_notice_days,
            self.expired_patron_years * DAYS_PER_YEAR,
            self.inactive_patron_years * DAYS_PER_YEAR,
            self.audit_event_years * DAYS_PER_YEAR,
        )
        return dt.timedelta(days=min(days))


def reading_history_expires(last_activity_on: dt.date, has_consent: bool, cutoffs: Cutoffs) -> bool:
    """History goes when consent is gone (PRIV-02) or the patron was inactive too long."""
    return not has_consent or last_activity_on < cutoffs.reading_history_inactive_before


def settled_fee_expires(settled: bool, settled_at: dt.datetime | None, cutoffs: Cutoffs) -> bool:
    """A paid or waived fee goes once its retention after settlement has passed."""
    return settled and settled_at is not None and settled_at < cutoffs.settled_fees_before


def sent_notice_expires(sent_at: dt.datetime, cutoffs: Cutoffs) -> bool:
    return sent_at < cutoffs.sent_notices_before


def note_expires(note_expires_on: dt.date | None, cutoffs: Cutoffs) -> bool:
    """A staff note is cleared the day after its expiry day (PRIV-06)."""
    return note_expires_on is not None and note_expires_on < cutoffs.notes_expired_before


def under_legal_hold(request_statuses: Iterable[str]) -> bool:
    """Whether legal requests in these states keep the patron they name (PRIV-13)."""
    return any(status in LEGAL_HOLD_STATUSES for status in request_statuses)


def patron_expires(
    expires_on: dt.date,
    last_activity_on: dt.date,
    has_open_business: bool,
    cutoffs: Cutoffs,
    *,
    legal_request_statuses: Iterable[str],
) -> bool:
    """Expired or inactive long enough, no open loan, hold or fee, and no legal hold.

    `legal_request_statuses` are the states of the legal requests that name the patron.
    """
    stale = (
        expires_on < cutoffs.expired_patrons_before
        or last_activity_on < cutoffs.inactive_patrons_before
    )
    return stale and not has_open_business and not under_legal_hold(legal_request_statuses)


def audit_event_expires(at: dt.datetime, cutoffs: Cutoffs) -> bool:
    return at < cutoffs.audit_events_before


def backup_expires(modified_at: dt.datetime, now: dt.datetime, rules: RetentionRules) -> bool:
    """A backup older than the shortest retention period may hold data already purged."""
    return modified_at < now - rules.shortest_period()
