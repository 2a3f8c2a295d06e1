"""The `reticent` command line: one parser, subcommands registered by topic."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import config.cli.devices
import config.cli.health
import config.cli.service
import config.cli.tui
from config.cli import accounts, admin, circ, consent, imports, legal, reports, retention, serve
from config.cli._context import Context
from config.cli._errors import EXIT_PIPE, exit_code, silence_stdout

CONFIG_HELP = "configuration file (default: $RETICENT_CONFIG)"


def _config_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let every subcommand take --config too, so it works wherever the user puts it.

    SUPPRESS as default: a subcommand without it leaves the value given before it untouched.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument(
                    "--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP
                )
                _config_everywhere(child)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reticent",
        description="Privacy-first circulation appliance for libraries.",
    )
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for topic in (admin, accounts, circ, imports, serve, consent, retention, legal, reports):
        topic.register(sub)
    for topic in (config.cli.health, config.cli.service, config.cli.tui, config.cli.devices):
        topic.register(sub)
    _config_everywhere(parser)
    return parser


def main(argv: Sequence[str] | None = None, ctx: Context | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if ctx is None:
        ctx = Context(config_path=args.config, environ=os.environ)
    else:
        ctx.config_path = args.config or ctx.config_path
    try:
        code: int = args.func(ctx, args)
        ctx.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
    except BaseException as exc:  # every outcome: one line and a code
        if isinstance(exc, SystemExit):
            raise
        if isinstance(exc, BrokenPipeError):
            silence_stdout(ctx.stdout)
            return EXIT_PIPE
        return exit_code(ctx, args, exc)
    return code


if __name__ == "__main__":
    sys.exit(main())
