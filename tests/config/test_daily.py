"""The daily jobs of `reticent serve`: when they run and what they report (counts only)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from config.bootstrap import build_store
from config.daily import purge_is_due, run_daily_jobs, seconds_until
from config.settings import Settings
from core.store.uow import Store
from tests.conftest import NOW, add_patron


def test_seconds_until_the_next_hour_in_the_library_zone() -> None:
    at_ten = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
    assert seconds_until(at_ten, 11, "UTC") == 3600
    assert seconds_until(at_ten, 3, "UTC") == 17 * 3600
    assert seconds_until(at_ten, 10, "UTC") == 24 * 3600
    # 10:00 UTC is 04:00 in Chicago (CST); the next 03:00 there is 23 hours away.
    assert seconds_until(at_ten, 3, "America/Chicago") == 23 * 3600


def test_daily_jobs_purge_expired_patrons_and_report_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path)
    store: Store = build_store(settings, create=True, now=NOW)
    try:
        add_patron(store, "GONE", given="Expiredname", expires_on=dt.date(2020, 1, 1))
        assert purge_is_due(store, NOW)
        lines = run_daily_jobs(settings, store, NOW)
        assert not purge_is_due(store, NOW + dt.timedelta(hours=1))
    finally:
        store.close()
    text = "\n".join(lines)
    assert "patrons=1" in text and "notices: 0" in text
    assert "canary: missing" in text  # PRIV-14: reminded, never signed by the system
    # No canary is a choice, not a fault: nothing at warning level on a new instance.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "GONE" not in text and "Expiredname" not in text
