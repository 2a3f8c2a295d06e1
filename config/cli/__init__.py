"""The `reticent` command line: one parser, subcommands registered by topic."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from config.cli import admin, circ, consent, imports, legal, reports, retention, serve
from config.cli._context import EXIT_REFUSED, EXIT_SETUP, Context
from config.loader import ConfigError
from core.errors import DomainError, ImportRowError, ReticentError, StoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reticent",
        description="Privacy-first circulation appliance for libraries.",
    )
    parser.add_argument(
        "--config", type=Path, help="configuration file (default: $RETICENT_CONFIG)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for topic in (admin, circ, imports, serve, consent, retention, legal, reports):
        topic.register(sub)
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
    except (ConfigError, StoreError) as exc:
        ctx.err(str(exc))
        return EXIT_SETUP
    except DomainError as exc:
        ctx.err(f"refused: {exc} [{exc.reason.value}]")
        return EXIT_REFUSED
    except (ImportRowError, ReticentError) as exc:
        ctx.err(str(exc))
        return EXIT_REFUSED
    except ValueError as exc:
        ctx.err(str(exc))
        return EXIT_SETUP
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
