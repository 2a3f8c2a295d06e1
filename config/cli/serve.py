"""`reticent serve`: the appliance process (SIP2 listeners), until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal

import trio

from config.bootstrap import configure_logging
from config.cli._context import EXIT_OK, Context
from core.store.uow import Store

log = logging.getLogger("reticent.serve")


async def _wait_for_stop_signal() -> int:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            return int(signum)
    return 0


async def run_appliance(ctx: Context, store: Store, args: argparse.Namespace) -> None:
    settings = ctx.settings
    log.info(
        "serving",
        extra={
            "fields": {"library": settings.library.name, "database": str(settings.database_path)}
        },
    )
    ctx.out(f"reticent serving {settings.library.name} from {settings.database_path}")
    ctx.out("press Ctrl-C to stop")
    signum = await _wait_for_stop_signal()
    log.info("stopping", extra={"fields": {"signal": signal.Signals(signum).name}})


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    configure_logging(ctx.settings)
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
    p.set_defaults(func=cmd_serve)
