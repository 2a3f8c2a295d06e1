"""The daily jobs `reticent serve` runs: retention and purge (PRIV-07), then notices (PRIV-10)."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from config.privacy_wiring import backup_folder, notice_options, notice_transport, retention_rules
from config.settings import Settings
from core.privacy.notices import send_notices
from core.privacy.purge import last_purge_at, run_retention
from core.store.uow import Store

log = logging.getLogger("reticent.daily")

# A restarted appliance catches up: a purge older than this runs at once, not at the next hour.
CATCH_UP_AFTER = dt.timedelta(hours=24)


def seconds_until(now: dt.datetime, hour: int, timezone: str) -> float:
    """Seconds from `now` to the next `hour`:00 in the library's time zone."""
    local = now.astimezone(ZoneInfo(timezone))
    target = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= local:
        target = (target + dt.timedelta(days=1)).replace(hour=hour)
    return (target - local).total_seconds()


def purge_is_due(store: Store, now: dt.datetime) -> bool:
    with store.read() as uow:
        last = last_purge_at(uow.session)
    return last is None or now - last >= CATCH_UP_AFTER


def run_daily_jobs(settings: Settings, store: Store, now: dt.datetime) -> list[str]:
    """Retention first (so no notice goes to someone just purged), then notices; counts only."""
    report = run_retention(
        store,
        now,
        retention_rules(settings.retention),
        backup_dir=backup_folder(settings),
        batch_size=settings.retention.batch_size,
    )
    removed = " ".join(f"{name}={count}" for name, count in report.counts().items())
    lines = [f"retention removed {removed}"]
    notices = send_notices(store, now, notice_options(settings), notice_transport(settings))
    lines.append(
        f"notices: {notices.notices} (e-mail {notices.emailed}, printed {notices.printed}, "
        f"refused {notices.failed})"
    )
    return lines
