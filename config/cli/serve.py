"""`reticent serve`: the appliance process (SIP2 listeners), until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import functools
import logging
import signal
from collections.abc import Coroutine

import trio

from config.bootstrap import configure_logging
from config.cli._context import EXIT_OK, Context
from config.daily import purge_is_due, run_daily_jobs, seconds_until
from config.sip2_wiring import build_handlers, build_limits, build_listeners
from core.store.uow import Store
from sip2.server import DatabaseExecutor, serve_sip2

log = logging.getLogger("reticent.serve")


async def _stop_on_signal(stop: trio.Event) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("stopping", extra={"fields": {"signal": signal.Signals(signum).name}})
            stop.set()
            return


async def _in_scope(scope: trio.CancelScope, job: Coroutine[object, object, None]) -> None:
    with scope:
        await job


async def _daily(ctx: Context, store: Store, database: DatabaseExecutor) -> None:
    """Retention and notices once a day at `retention.daily_hour`, on the database lane."""
    settings = ctx.settings
    catch_up = await database.run_alone(purge_is_due, store, ctx.clock())
    while True:
        if not catch_up:
            hour, zone = settings.retention.daily_hour, settings.circulation.calendar.timezone
            await trio.sleep(seconds_until(ctx.clock(), hour, zone))
        catch_up = False
        try:
            lines = await database.run_alone(run_daily_jobs, settings, store, ctx.clock())
        except Exception as error:  # the appliance keeps serving; the self-audit will say it
            log.error("daily job failed", extra={"fields": {"error": type(error).__name__}})
            continue
        for line in lines:
            log.info("daily", extra={"fields": {"result": line}})


async def run_appliance(ctx: Context, store: Store, args: argparse.Namespace) -> None:
    """Everything `serve` runs, in one trio process, until a stop signal."""
    settings = ctx.settings
    handlers = build_handlers(settings, store)
    listeners = build_listeners(settings, args.sip2_listen)
    database = DatabaseExecutor(store)  # the one lane for database work in this process
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_stop_on_signal, stop)
        bound = await nursery.start(
            functools.partial(
                serve_sip2,
                handlers,
                listeners,
                build_limits(settings),
                stop=stop,
                database=database,
            )
        )
        daily = trio.CancelScope()
        if not args.no_daily_jobs:
            nursery.start_soon(_in_scope, daily, _daily(ctx, store, database))
        addresses = ", ".join(f"{host}:{port}" for host, port in bound)
        ctx.out(f"reticent serving {settings.library.name}: SIP2 on {addresses}")
        host, port = bound[0]
        ctx.out(f"try it: .venv/bin/reticent sip2 shell {host}:{port}   (press Ctrl-C to stop)")
        await stop.wait()
        daily.cancel()  # a purge batch under way still commits or rolls back whole
        # serve_sip2 returns by itself within its grace period; this is only a safety net.
        nursery.cancel_scope.deadline = trio.current_time() + settings.sip2.shutdown_grace_s + 1


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    configure_logging(ctx.settings)
    build_listeners(ctx.settings, args.sip2_listen)  # refuse bad listeners before opening the store
    with ctx.store() as store:
        trio.run(run_appliance, ctx, store, args)
    ctx.out("stopped")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the appliance until Ctrl-C or SIGTERM")
    p.add_argument(
        "--sip2-listen",
        action="append",
        metavar="HOST:PORT",
        help="listen for SIP2 here instead of the configured listeners (repeatable)",
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
