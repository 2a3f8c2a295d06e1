"""The daily jobs `reticent serve` runs: retention and purge (PRIV-07), then notices (PRIV-10)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Protocol
from zoneinfo import ZoneInfo

from config.privacy_wiring import (
    backup_folder,
    canary_file,
    notice_options,
    notice_transport,
    retention_rules,
)
from config.settings import Settings
from core.privacy.canary import canary_status
from core.privacy.keyring import prune_retired_keys
from core.privacy.notices import send_notices
from core.privacy.purge import last_purge_at, run_retention
from core.store.uow import Store

log = logging.getLogger("reticent.daily")

# A restarted appliance catches up: a purge older than this runs at once, not at the next hour.
CATCH_UP_AFTER = dt.timedelta(hours=24)


class JobObserver(Protocol):
    """Told what each run did, in counts only (``config.metrics.ApplianceMetrics``)."""

    def purge_ran(self, removed: Mapping[str, int], finished_at: float) -> None: ...

    def notices_delivered(self, emailed: int, printed: int, refused: int) -> None: ...


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


def run_daily_jobs(
    settings: Settings, store: Store, now: dt.datetime, observer: JobObserver | None = None
) -> list[str]:
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
    if observer is not None:
        observer.purge_ran(report.counts(), now.timestamp())
    rules = retention_rules(settings.retention)
    keys = prune_retired_keys(settings.key_path, backup_folder(settings), now, rules)
    if keys:
        lines.append(f"retired keys no kept backup needs, destroyed: {keys}")
    notices = send_notices(store, now, notice_options(settings), notice_transport(settings))
    if observer is not None:
        observer.notices_delivered(notices.emailed, notices.printed, notices.failed)
    lines.append(
        f"notices: {notices.notices} (e-mail {notices.emailed}, printed {notices.printed}, "
        f"refused {notices.failed})"
    )
    lines.append(canary_reminder(settings, now))
    return lines


def canary_reminder(settings: Settings, now: dt.datetime) -> str:
    """PRIV-14: the system reminds before the canary expires and says when it is stale; the
    privacy officer signs (`reticent canary sign`), never the system."""
    privacy = settings.privacy
    status = canary_status(
        canary_file(settings), privacy.canary_public_key, now, privacy.canary_warn_days
    )
    if status.state == "fresh":
        return "canary: fresh"
    if status.state == "expiring":
        log.warning("canary expiring", extra={"fields": {"expires_at": str(status.expires_at)}})
        return f"canary: expiring at {status.expires_at}; ask the privacy officer to sign a new one"
    if status.state == "missing":
        # A canary is the library's choice (the guideline says it "could consider" one): having
        # none is no warning; once one was published, letting it go stale is.
        return "canary: missing (none published; optional, see `reticent privacy audit`)"
    log.warning("canary not fresh", extra={"fields": {"state": status.state}})
    return f"canary: {status.state}; ask the privacy officer to sign a new one"
