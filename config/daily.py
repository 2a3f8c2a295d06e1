"""The jobs `reticent serve` runs: daily retention, hold expiry and notices (PRIV-07, PRIV-10),
and the hourly emptying of the write-ahead log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Protocol
from zoneinfo import ZoneInfo

import trio

from config.privacy_wiring import (
    backup_folder,
    canary_file,
    notice_options,
    notice_transport,
    print_folder,
    retention_rules,
)
from config.settings import Settings
from core.privacy.canary import canary_status
from core.privacy.delivery import delete_old_print_files
from core.privacy.keyring import prune_retired_keys
from core.privacy.notices import deliver_notices, plan_notices, record_notices
from core.privacy.purge import PurgeSteps, delete_expired_backups, last_purge_at, truncate_wal
from core.services.hold_expiry import HoldExpiryReport, expire_holds
from core.store.uow import Store
from sip2.server import DatabaseExecutor

log = logging.getLogger("reticent.daily")

# A restarted appliance catches up: a purge older than this runs at once, not at the next hour.
CATCH_UP_AFTER = dt.timedelta(hours=24)
WAL_TRUNCATE_EVERY_S = 3600.0  # docs/data-inventory.md states this bound


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


async def daily_jobs(
    settings: Settings,
    store: Store,
    database: DatabaseExecutor,
    now: dt.datetime,
    observer: JobObserver | None = None,
) -> list[str]:
    """Retention first (so no notice goes to someone just purged), lapsed holds, then notices.

    Every store transaction is its own call on the database lane (one purge batch, one batch of
    lapsed holds, reading and recording the notices), so SIP2 requests are answered between
    any two; files and mail are handled off the lane, with no transaction open. Counts only.
    """
    rules = retention_rules(settings.retention)
    batch_size = settings.retention.batch_size
    steps = PurgeSteps(store, now, rules, batch_size=batch_size)
    while await database.run_alone(steps.step):
        pass
    assert steps.report is not None
    folder = backup_folder(settings)
    backups = await trio.to_thread.run_sync(delete_expired_backups, folder, now, rules)
    report = dataclasses.replace(steps.report, backups_deleted=backups)
    removed = " ".join(f"{name}={count}" for name, count in report.counts().items())
    lines = [f"retention removed {removed}"]
    if observer is not None:
        observer.purge_ran(report.counts(), now.timestamp())
    keys = await trio.to_thread.run_sync(prune_retired_keys, settings.key_path, folder, now, rules)
    if keys:
        lines.append(f"retired keys no kept backup needs, destroyed: {keys}")
    lapsed = HoldExpiryReport()
    while True:
        batch = await database.run_alone(_expire_hold_batch, store, now, batch_size)
        lapsed += batch
        if batch.lapsed < batch_size:
            break
    lines.append(
        f"holds lapsed: {lapsed.requests_lapsed} requests, {lapsed.shelf_lapsed} on the shelf "
        f"({lapsed.retrapped} copies set aside for the next in line)"
    )
    options = notice_options(settings)
    plan = await database.run_alone(plan_notices, store, now, options)
    transport = notice_transport(settings, now)
    delivery = await trio.to_thread.run_sync(deliver_notices, plan, options, transport)
    notices = await database.run_alone(record_notices, store, plan, delivery)
    if observer is not None:
        observer.notices_delivered(notices.emailed, notices.printed, notices.failed)
    lines.append(
        f"notices: {notices.notices} (e-mail {notices.emailed}, printed {notices.printed}, "
        f"refused {notices.failed})"
    )
    keep = dt.timedelta(hours=settings.notices.print_keep_hours)
    old_prints = await trio.to_thread.run_sync(
        delete_old_print_files, print_folder(settings), now, keep
    )
    hours = settings.notices.print_keep_hours
    lines.append(f"print files older than {hours} h deleted: {old_prints}")
    lines.append(canary_reminder(settings, now))
    return lines


def _expire_hold_batch(store: Store, now: dt.datetime, limit: int) -> HoldExpiryReport:
    with store.write() as uow:
        return expire_holds(uow, now, limit=limit)


def run_daily_jobs(
    settings: Settings, store: Store, now: dt.datetime, observer: JobObserver | None = None
) -> list[str]:
    """`daily_jobs` outside `serve`: the same steps, one after the other."""
    return trio.run(daily_jobs, settings, store, DatabaseExecutor(), now, observer)


async def empty_the_wal_hourly(store: Store, database: DatabaseExecutor) -> None:
    """A TRUNCATE checkpoint every hour, on the lane: the bound on how long a deleted row can
    stay in the write-ahead log when no checkpoint after its delete could empty it
    (docs/data-inventory.md, "Deleted rows leave the disk")."""
    while True:
        await trio.sleep(WAL_TRUNCATE_EVERY_S)
        if not await database.run_alone(truncate_wal, store):
            log.warning("wal not emptied", extra={"fields": {"reason": "a reader was active"}})


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
