"""Retention rules per data class (PRIV-07)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar


@dataclass(frozen=True)
class RetentionSettings:
    """How long personal data is kept; the daily purge removes what has expired (PRIV-07)."""

    reading_history_inactive_years: int = 2
    settled_fee_days: int = 90
    sent_notice_days: int = 30
    expired_patron_years: int = 2
    inactive_patron_years: int = 3
    audit_event_years: int = 2
    batch_size: int = 5000
    backup_dir: Path | None = None
    daily_hour: int = 3

    COMMENTS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "reading_history_inactive_years": (
                "Reading history (kept only for patrons who opted in) is removed after this\n"
                "many years without activity on the account."
            ),
            "settled_fee_days": "Paid or waived fees are removed this many days after settlement.",
            "sent_notice_days": "Records of sent notices are removed after this many days.",
            "expired_patron_years": (
                "Patrons whose card expired this many years ago are removed entirely,\n"
                "unless they still have a loan, a hold or an unpaid fee."
            ),
            "inactive_patron_years": (
                "Patrons inactive for this many years are removed entirely, with the same\n"
                "exceptions. Anonymous statistics are always kept."
            ),
            "audit_event_years": (
                "Audit log entries are removed after this many years; the log still verifies."
            ),
            "batch_size": "Rows removed per transaction, so circulation never waits long.",
            "backup_dir": (
                "Folder of backups (default: backups in the data folder). Files in it older\n"
                "than the shortest period above are deleted by the daily purge."
            ),
            "daily_hour": "Hour of the day (0-23) at which the daily purge runs.",
        }
    )
