"""`reticent health`: one line (or JSON) for a monitoring check, exit 0 healthy, 1 not."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import func, select

from config.bootstrap import build_store, store_options
from config.cli._context import EXIT_OK, EXIT_REFUSED, Context
from config.loader import ConfigError
from config.privacy_wiring import canary_file
from config.settings import Settings, parse_host_port
from core.errors import KeyFileError, StoreError, WrongKeyError
from core.model import AuditEvent, Instance
from core.model.retention import PurgeRun
from core.privacy.canary import canary_status
from core.privacy.purge import last_purge_at
from core.privacy.selfaudit import PURGE_MAX_AGE
from core.security.keys import load_key
from core.store.engine import create_store_engine
from core.store.migrate import current_revision, head_revision
from core.store.uow import Store

CONNECT_TIMEOUT_S = 2.0
# A backup and a VACUUM each need about the database's size again; below this nothing is safe.
MIN_FREE_BYTES = 256 * 1024 * 1024
# A clock this far past the last recorded event is "years off" rather than a quiet spell: the
# daily job records a purge run every day on a serving appliance.
CLOCK_AHEAD_LIMIT = dt.timedelta(days=366)
# Small differences between writers' clocks are not worth an alarm.
CLOCK_BEHIND_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Check:
    """One fact: ``value`` is one word for the line; ``detail`` says why, when not ``ok``."""

    name: str
    ok: bool
    value: str
    detail: str = ""


def run_checks(settings: Settings, now: dt.datetime) -> list[Check]:
    """Every check, in the order of the line; none raises."""
    checks: list[Check] = []
    store: Store | None = None
    try:
        store, store_checks = _open_store(settings)
        checks.extend(store_checks)
        checks.append(_sip2(settings))
        ssh = _ssh(settings)
        if ssh is not None:
            checks.append(ssh)
        checks.append(_guarded("purge", lambda: _purge(store, now)))
        checks.append(_canary(settings, now))
        checks.append(_disk(settings))
        checks.append(_guarded("clock", lambda: _clock(store, now)))
    finally:
        if store is not None:
            store.close()
    return checks


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as error:  # a health check reports; it never crashes the monitor's probe
        return Check(name, False, "error", f"{name}: {type(error).__name__}")


def _open_store(settings: Settings) -> tuple[Store | None, list[Check]]:
    unknown = Check("schema", False, "unknown")
    if not settings.database_path.exists():
        detail = f"store: no database at {settings.database_path}"
        return None, [Check("store", False, "missing", detail), unknown]
    try:
        store = build_store(settings)
    except KeyFileError as error:
        return None, [Check("store", False, "key", f"store: {error}"), unknown]
    except WrongKeyError as error:
        return None, [Check("store", False, "wrong-key", f"store: {error}"), unknown]
    except StoreError as error:
        try:
            return None, [Check("store", True, "ok"), _schema_problem(settings, str(error))]
        except Exception:
            return None, [Check("store", False, "error", f"store: {error}"), unknown]
    return store, [Check("store", True, "ok"), Check("schema", True, "current")]


def _schema_problem(settings: Settings, problem: str) -> Check:
    """The store opens with its key, yet was refused: say whether the schema is behind."""
    options = store_options(settings)
    engine = create_store_engine(options.database, load_key(options.key_file), pool_size=1)
    try:
        current, head = current_revision(engine), head_revision()
    finally:
        engine.dispose()
    if current != head:
        return Check("schema", False, "outdated", f"schema: at {current}, needs {head}")
    return Check("schema", False, "error", f"store: {problem}")


def _connect_host(host: str) -> str:
    """A wildcard listener is reached on this machine's loopback."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104


def _listening(host: str, port: int) -> str | None:
    """None when something accepts connections on host:port, else the reason."""
    try:
        with socket.create_connection((_connect_host(host), port), timeout=CONNECT_TIMEOUT_S):
            return None
    except OSError as error:
        return error.strerror or type(error).__name__


def _sip2(settings: Settings) -> Check:
    problems = []
    for listener in settings.sip2.listeners:
        reason = _listening(listener.host, listener.port)
        if reason is not None:
            problems.append(f"{listener.host}:{listener.port} ({reason})")
    if problems:
        return Check("sip2", False, "down", "sip2: nothing answers on " + ", ".join(problems))
    return Check("sip2", True, "listening")


def _ssh(settings: Settings) -> Check | None:
    """The SSH gateway, when this version has one and it is enabled; None: nothing to check."""
    ssh = getattr(settings, "ssh", None)
    if ssh is None:
        return None
    if not getattr(ssh, "enabled", True):
        return Check("ssh", True, "disabled")
    listen = getattr(ssh, "listen", None)
    if isinstance(listen, str):
        host, port = parse_host_port(listen)
    else:
        host, port = str(getattr(ssh, "host", "127.0.0.1")), int(getattr(ssh, "port", 0))
    reason = _listening(host, port)
    if reason is not None:
        return Check("ssh", False, "down", f"ssh: nothing answers on {host}:{port} ({reason})")
    return Check("ssh", True, "listening")


def _purge(store: Store | None, now: dt.datetime) -> Check:
    if store is None:
        return Check("purge", False, "unknown", "purge: the store cannot be read")
    with store.read() as uow:
        last = last_purge_at(uow.session)
    if last is None:
        return Check("purge", False, "never", "purge: no retention run yet (PRIV-07)")
    stamp = f"{last:%Y-%m-%dT%H:%MZ}"
    if now - last > PURGE_MAX_AGE:
        hours = int(PURGE_MAX_AGE.total_seconds() // 3600)
        detail = f"purge: last run {stamp}, more than {hours} hours ago (PRIV-07)"
        return Check("purge", False, f"overdue({stamp})", detail)
    return Check("purge", True, f"ok({stamp})")


def _canary(settings: Settings, now: dt.datetime) -> Check:
    privacy = settings.privacy
    status = canary_status(
        canary_file(settings), privacy.canary_public_key, now, privacy.canary_warn_days
    )
    if status.state in ("fresh", "expiring"):  # expiring: the daily job reminds the officer
        return Check("canary", True, status.state)
    problem = f": {status.problem}" if status.problem else ""
    return Check("canary", False, status.state, f"canary: {status.state}{problem} (PRIV-14)")


def _disk(settings: Settings) -> Check:
    folder = settings.data_dir
    try:
        free = shutil.disk_usage(folder).free
        size = settings.database_path.stat().st_size if settings.database_path.exists() else 0
    except OSError as error:
        return Check("disk", False, "error", f"disk: {folder}: {error.strerror}")
    needed = max(MIN_FREE_BYTES, 2 * size)
    shown = f"{free / 2**30:.1f}GiB"
    if free < needed:
        detail = f"disk: {shown} free in {folder}, needs {needed / 2**30:.1f}GiB"
        return Check("disk", False, f"low({shown})", detail)
    return Check("disk", True, f"ok({shown})")


def last_recorded_at(store: Store) -> dt.datetime:
    """The latest moment the store has written down: an audit event, a purge, its creation."""
    with store.read() as uow:
        session = uow.session
        moments = [
            session.scalar(select(func.max(AuditEvent.at))),
            session.scalar(select(func.max(PurgeRun.at))),
            session.scalar(select(Instance.created_at).where(Instance.id == 1)),
        ]
    return max(moment for moment in moments if moment is not None)


def _clock(store: Store | None, now: dt.datetime) -> Check:
    """Due dates and retention are decided by this clock: behind or years ahead is a fault."""
    if store is None:
        return Check("clock", False, "unknown", "clock: the store cannot be read to compare")
    last = last_recorded_at(store)
    stamp = f"{last:%Y-%m-%dT%H:%MZ}"
    if now < last - CLOCK_BEHIND_TOLERANCE:
        detail = f"clock: {now:%Y-%m-%dT%H:%MZ} is before the last recorded event ({stamp})"
        return Check("clock", False, "behind", detail + "; check time synchronisation")
    if now - last > CLOCK_AHEAD_LIMIT:
        days = (now - last).days
        detail = f"clock: {days} days after the last recorded event ({stamp})"
        return Check("clock", False, "ahead", detail + "; check time synchronisation")
    return Check("clock", True, "ok")


def render_line(checks: list[Check]) -> str:
    """``OK name=value ...``, or ``FAIL name=value ... | why; why``: split on " | ", then spaces."""
    healthy = all(check.ok for check in checks)
    line = ("OK " if healthy else "FAIL ") + " ".join(f"{c.name}={c.value}" for c in checks)
    details = [check.detail for check in checks if not check.ok and check.detail]
    return line + (" | " + "; ".join(details) if details else "")


def render_json(checks: list[Check]) -> str:
    healthy = all(check.ok for check in checks)
    return json.dumps(
        {"status": "ok" if healthy else "fail", "checks": [asdict(check) for check in checks]}
    )


def cmd_health(ctx: Context, args: argparse.Namespace) -> int:
    try:
        checks = run_checks(ctx.settings, ctx.clock())
    except ConfigError as error:
        checks = [Check("config", False, "invalid", f"config: {error}")]
    ctx.out(render_json(checks) if args.json else render_line(checks))
    return EXIT_OK if all(check.ok for check in checks) else EXIT_REFUSED


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "health", help="one line for monitoring: store, SIP2, purge, canary, disk, clock"
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of the line")
    p.set_defaults(func=cmd_health)
