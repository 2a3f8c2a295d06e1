"""`reticent serve`: the appliance process (SIP2 listeners), until Ctrl-C or SIGTERM.

With `[sip2] workers = N` (or `--sip2-workers N`) above 1, `serve` is a parent that forks N
worker processes (`sip2.server._processes`); each runs everything below on the same ports
(SO_REUSEPORT) with its own store connections and database executor. The daily jobs run in
worker 0 only: one process purges and sends notices, as with a single process, and a worker 0
that is restarted checks on start whether a run is due, as a restarted appliance does. The
parent holds no store connection (it opens the store once before forking, only to report a
bad key or database at once).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import functools
import logging
import math
import os
import signal
import socket
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path

import trio

from config.bootstrap import configure_logging
from config.cli._context import EXIT_OK, Context
from config.daily import daily_jobs, empty_the_wal_hourly, purge_is_due, seconds_until
from config.metrics import ApplianceMetrics, MetricsEndpoint
from config.sd_notify import Notifier
from config.settings import MAX_SIP2_WORKERS, check_metrics_address, parse_host_port
from config.sip2_wiring import build_handlers, build_limits, build_listeners
from core.store.uow import Store
from sip2.server import (
    DatabaseExecutor,
    Listener,
    check_listeners,
    reserve_port,
    serve_sip2,
    supervise,
)

log = logging.getLogger("reticent.serve")


@dataclass(frozen=True)
class WorkerRole:
    """What one of several worker processes is: its number, how many there are, its sockets."""

    index: int
    workers: int
    listeners: tuple[Listener, ...]  # ports resolved by the parent, opened with SO_REUSEPORT
    writer_turn: Path  # the lock file the workers' write batches take turns on

    @property
    def runs_daily_jobs(self) -> bool:
        return self.index == 0


class _WorkerField(logging.Filter):
    """Adds `worker=N` to every structured line of a worker process (connection numbers and
    the like are per process, so lines from different workers stay apart)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def filter(self, record: logging.LogRecord) -> bool:
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            fields.setdefault("worker", self.index)
        else:
            record.fields = {"worker": self.index}
        return True


async def _stop_on_signal(stop: trio.Event, signums: Sequence[int]) -> None:
    with trio.open_signal_receiver(*signums) as signals:
        async for signum in signals:
            log.info("stopping", extra={"fields": {"signal": signal.Signals(signum).name}})
            stop.set()
            return


async def _in_scope(scope: trio.CancelScope, job: Coroutine[object, object, None]) -> None:
    with scope:
        await job


async def _watchdog(notifier: Notifier, interval: float) -> None:
    """Ping systemd's watchdog from the event loop: a loop that hangs stops the pings and
    systemd restarts the service (WatchdogSec= in config/systemd/reticent.service)."""
    while True:
        notifier.ping()
        await trio.sleep(interval)


def _metrics_address(ctx: Context, args: argparse.Namespace) -> tuple[str, int] | None:
    """Where to serve metrics: ``--metrics-listen``, else ``[metrics] listen``, else nowhere."""
    metrics = ctx.settings.metrics
    if args.metrics_listen is None:
        return metrics.address
    host, port = parse_host_port(args.metrics_listen)
    check_metrics_address(host, metrics.allow_remote)
    return host, port


@contextlib.asynccontextmanager
async def _metrics_served(
    ctx: Context, args: argparse.Namespace, metrics: ApplianceMetrics | None
) -> AsyncIterator[MetricsEndpoint | None]:
    """The metrics endpoint for the life of the block, or None when metrics are off."""
    address = _metrics_address(ctx, args)
    if metrics is None or address is None:
        yield None
        return
    try:
        endpoint = metrics.serve(*address)
    except OSError as error:
        where = f"{address[0]}:{address[1]}"
        raise ValueError(f"cannot serve metrics on {where}: {error.strerror}") from None
    host, port = endpoint.address
    log.info("metrics", extra={"fields": {"listening": f"{host}:{port}"}})
    try:
        yield endpoint
    finally:
        endpoint.close()


async def _daily(
    ctx: Context, store: Store, database: DatabaseExecutor, metrics: ApplianceMetrics | None
) -> None:
    """Retention, hold expiry and notices once a day at `retention.daily_hour`, each store
    transaction its own call on the database lane (config/daily.py)."""
    settings = ctx.settings
    catch_up = await database.run_alone(purge_is_due, store, ctx.clock())
    while True:
        if not catch_up:
            hour, zone = settings.retention.daily_hour, settings.circulation.calendar.timezone
            await trio.sleep(seconds_until(ctx.clock(), hour, zone))
        catch_up = False
        try:
            lines = await daily_jobs(settings, store, database, ctx.clock(), metrics)
        except Exception as error:  # the appliance keeps serving; the self-audit will say it
            log.error("daily job failed", extra={"fields": {"error": type(error).__name__}})
            if metrics is not None:
                metrics.daily_job_failed()
            continue
        for line in lines:
            log.info("daily", extra={"fields": {"result": line}})


async def run_appliance(
    ctx: Context, store: Store, args: argparse.Namespace, role: WorkerRole | None = None
) -> None:
    """Everything `serve` runs, in one trio process, until a stop signal.

    ``role`` is set in a worker process: its listeners share their ports with the other
    workers, it gets its share of the session limit, stops on SIGTERM from the parent, and
    runs the daily jobs only as worker 0.
    """
    settings = ctx.settings
    handlers = build_handlers(settings, store)
    limits = build_limits(settings)
    signums: tuple[signal.Signals, ...]
    if role is None:
        listeners = build_listeners(settings, args.sip2_listen)
        signums = (signal.SIGINT, signal.SIGTERM)
    else:
        listeners = list(role.listeners)
        limits = dataclasses.replace(
            limits,
            max_sessions=math.ceil(limits.max_sessions / role.workers),
            max_prelogin=math.ceil(limits.max_prelogin / role.workers),
        )
        signums = (signal.SIGTERM,)  # the parent turns Ctrl-C into SIGTERM
    # The one lane for database work in this process; several workers take turns to write.
    database = DatabaseExecutor(store, writer_turn=None if role is None else role.writer_turn)
    metrics = ApplianceMetrics() if _metrics_address(ctx, args) is not None else None
    if metrics is not None:
        metrics.watch_queue(database.queue_depth)
    # The parent of worker processes is the service's main process (systemd's MAINPID).
    notifier = Notifier.from_environ(ctx.environ, os.getpid() if role is None else os.getppid())
    stop = trio.Event()
    async with _metrics_served(ctx, args, metrics) as endpoint, trio.open_nursery() as nursery:
        nursery.start_soon(_stop_on_signal, stop, signums)
        try:
            bound = await nursery.start(
                functools.partial(
                    serve_sip2,
                    handlers,
                    listeners,
                    limits,
                    stop=stop,
                    database=database,
                    reuse_port=role is not None,
                    observer=metrics,
                )
            )
        except OSError as error:
            raise ValueError(_listen_failure(listeners, error)) from None
        daily, hourly = trio.CancelScope(), trio.CancelScope()  # a scope is entered once
        if not args.no_daily_jobs and (role is None or role.runs_daily_jobs):
            nursery.start_soon(_in_scope, daily, _daily(ctx, store, database, metrics))
            nursery.start_soon(_in_scope, hourly, empty_the_wal_hourly(store, database))
        addresses = ", ".join(f"{host}:{port}" for host, port in bound)
        if role is None:
            ctx.out(f"reticent serving {settings.library.name}: SIP2 on {addresses}")
            host, port = bound[0]
            ctx.out(f"try it: .venv/bin/reticent sip2 shell {host}:{port}   (press Ctrl-C to stop)")
            if endpoint is not None:
                host, port = endpoint.address
                ctx.out(f"metrics on http://{host}:{port}/metrics")
        pings = trio.CancelScope()
        if notifier is not None:
            if role is None or role.index == 0:  # the workers share their ports: one says so
                notifier.ready(f"SIP2 on {addresses}")
            if notifier.watchdog_s is not None:
                nursery.start_soon(_in_scope, pings, _watchdog(notifier, notifier.watchdog_s))
        await stop.wait()
        if notifier is not None and (role is None or role.index == 0):
            notifier.stopping()
        pings.cancel()  # stopping may take up to the grace period: systemd knows (STOPPING=1)
        daily.cancel()  # a purge batch under way still commits or rolls back whole
        hourly.cancel()
        # serve_sip2 returns by itself within its grace period; this is only a safety net.
        nursery.cancel_scope.deadline = trio.current_time() + settings.sip2.shutdown_grace_s + 1


def _listen_failure(listeners: Sequence[Listener], error: OSError) -> str:
    where = ", ".join(listener.label for listener in listeners)
    text = f"cannot listen for SIP2 on {where}: {error.strerror or error}"
    if error.errno == errno.EADDRINUSE:
        text += (
            " (is another `reticent serve` running? stop it, or choose another port with "
            "--sip2-listen HOST:PORT or [[sip2.listeners]])"
        )
    return text


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    configure_logging(ctx.settings)
    # Refuse bad listeners before opening the store (PRIV-08: plain TCP off the loopback).
    listeners = build_listeners(ctx.settings, args.sip2_listen)
    check_listeners(listeners)
    workers = args.sip2_workers if args.sip2_workers is not None else ctx.settings.sip2.workers
    if _metrics_address(ctx, args) is not None and workers > 1:
        # Each worker would count only its own share of the requests.
        raise ValueError("the metrics endpoint needs a single SIP2 process ([sip2] workers = 1)")
    if workers > 1:
        return _serve_workers(ctx, args, listeners, workers)
    with ctx.store() as store:
        trio.run(run_appliance, ctx, store, args)
    ctx.out("stopped")
    return EXIT_OK


def _serve_workers(
    ctx: Context, args: argparse.Namespace, listeners: Sequence[Listener], workers: int
) -> int:
    """The parent of `workers` worker processes (module doc), until they have all stopped."""
    ctx.check_store()  # a bad key or database is reported once, not by every worker in a loop
    reserved: list[socket.socket] = []
    try:
        resolved = []
        for listener in listeners:
            try:
                held, port = reserve_port(listener.host, listener.port)
            except OSError as error:
                raise ValueError(_listen_failure([listener], error)) from None
            reserved.append(held)
            resolved.append(dataclasses.replace(listener, port=port))
        addresses = ", ".join(f"{listener.host or '*'}:{listener.port}" for listener in resolved)
        ctx.out(
            f"reticent serving {ctx.settings.library.name}: SIP2 on {addresses} "
            f"({workers} worker processes)"
        )
        ctx.stdout.flush()

        def run_worker(index: int) -> int:
            for held in reserved:
                held.close()  # the parent's; the worker opens its own listening sockets
            logging.getLogger().handlers[0].addFilter(_WorkerField(index))
            database = ctx.settings.database_path
            turn = database.with_name(f"{database.name}.sip2-turn")
            role = WorkerRole(index, workers, tuple(resolved), turn)
            with ctx.store() as store:
                trio.run(functools.partial(run_appliance, ctx, store, args, role))
            return EXIT_OK

        code = supervise(run_worker, workers, stop_grace_s=ctx.settings.sip2.shutdown_grace_s)
    finally:
        for held in reserved:
            held.close()
    ctx.out("stopped")
    return code


def _workers_option(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_SIP2_WORKERS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_SIP2_WORKERS}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the appliance until Ctrl-C or SIGTERM")
    p.add_argument(
        "--sip2-listen",
        action="append",
        metavar="HOST:PORT",
        help="listen for SIP2 here instead of the configured listeners (repeatable)",
    )
    p.add_argument(
        "--sip2-workers",
        type=_workers_option,
        metavar="N",
        help="serve SIP2 from N processes on the same ports (default: [sip2] workers)",
    )
    p.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="serve Prometheus metrics here (default: [metrics] listen; loopback only unless "
        "[metrics] allow_remote = true)",
    )
    p.add_argument(
        "--no-daily-jobs",
        action="store_true",
        help="do not run the daily retention and notice jobs in this process",
    )
    p.set_defaults(func=cmd_serve)

    sip2 = sub.add_parser("sip2", help="SIP2 tools").add_subparsers(dest="action", required=True)
    p = sip2.add_parser("shell", help="type SIP2 requests by name and see parsed answers")
    p.add_argument("target", metavar="HOST:PORT")
    p.add_argument("--tls", action="store_true", help="connect with TLS (system trust store)")
    p.add_argument("--cafile", help="trust this CA or self-signed certificate for --tls")
    p.set_defaults(func=cmd_sip2_shell)


def cmd_sip2_shell(ctx: Context, args: argparse.Namespace) -> int:
    import ssl

    from sip2.shell import main_shell

    context = None
    if args.tls or args.cafile:
        context = ssl.create_default_context(cafile=args.cafile)
    return main_shell(args.target, ssl_context=context)
