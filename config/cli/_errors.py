"""From an exception to one line on standard error and an exit code; bugs go to the error log.

Nothing a user can cause prints a traceback. What is not a known error is a bug: its traceback
(code locations and exception types, never their messages, which could hold a barcode) is
appended to `errors.log` in the data folder, and the user sees one line saying where it went.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import traceback
from pathlib import Path
from typing import TextIO

import sqlcipher3
from sqlalchemy.exc import SQLAlchemyError

from config.cli._context import EXIT_REFUSED, EXIT_SETUP, Context
from config.loader import ConfigError
from core.errors import DomainError, ReticentError, StoreError
from core.policy.secret_rules import WeakSecret
from core.store.engine import describe_database_error

EXIT_INTERNAL = 3  # a bug: details in the error log
EXIT_PIPE = 141  # the reader of our output went away (as the shell reports for `cat | head`)
EXIT_INTERRUPTED = 130
ERROR_LOG_NAME = "errors.log"

log = logging.getLogger("reticent.cli")


def silence_stdout(stdout: TextIO) -> None:
    """After a broken pipe: point standard output at /dev/null so the exit flush stays quiet."""
    try:
        fileno = stdout.fileno()
    except (OSError, ValueError):  # not a real file (tests pass a StringIO)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


def sole_exception(exc: BaseException) -> BaseException:
    """The one exception inside nested groups (trio nurseries wrap what their tasks raise)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _os_error_text(exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.EADDRINUSE:
        return f"{reason}: another program (a second `reticent serve`?) holds the port"
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return reason


def exit_code(ctx: Context, args: argparse.Namespace, raised: BaseException) -> int:
    """Report `raised` in one line and return the exit code the README documents."""
    exc = sole_exception(raised)
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, ConfigError | StoreError):
        ctx.err(str(exc))
        return EXIT_SETUP
    if isinstance(exc, DomainError):
        ctx.err(f"refused: {exc} [{exc.reason.value}]")
        return EXIT_REFUSED
    if isinstance(exc, ReticentError | WeakSecret):
        ctx.err(str(exc))
        return EXIT_REFUSED
    if isinstance(exc, ValueError):
        ctx.err(str(exc))
        return EXIT_SETUP
    if isinstance(exc, OSError):
        ctx.err(_os_error_text(exc))
        return EXIT_SETUP
    if isinstance(exc, SQLAlchemyError | sqlcipher3.Error):  # one line, no statement, no values
        ctx.err(describe_database_error(exc))
        return EXIT_SETUP
    where = record_bug(ctx, args, raised)
    told = f"details in {where}" if where is not None else "no error log: no data folder yet"
    ctx.err(f"internal error ({type(exc).__name__}); {told}. Please report it.")
    return EXIT_INTERNAL


def _command(args: argparse.Namespace) -> str:
    # Only the command's names: its arguments can be barcodes (PRIV-16).
    parts = [getattr(args, "command", None), getattr(args, "action", None)]
    parts.append(getattr(args, "kind", None))
    return " ".join(part for part in parts if isinstance(part, str))


def _describe(exc: BaseException) -> list[str]:
    """Where `exc` and its causes were raised, and their types; no exception messages."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}\n")
        lines.extend(traceback.format_tb(current.__traceback__))
        if isinstance(current, BaseExceptionGroup):
            for inner in current.exceptions:
                lines.extend("  " + line for line in _describe(inner))
        current = current.__cause__ or current.__context__
        if current is not None:
            lines.append("raised while handling:\n")
    return lines


def record_bug(ctx: Context, args: argparse.Namespace, exc: BaseException) -> Path | None:
    """Append the details of a bug to the error log (mode 0600); its path, or None."""
    log.error("internal error", extra={"fields": {"error": type(exc).__name__}})
    try:
        folder = ctx.settings.data_dir
    except Exception:  # the settings themselves may be what failed
        return None
    if not folder.is_dir():
        return None
    path = folder / ERROR_LOG_NAME
    text = "".join(
        [f"--- {ctx.clock():%Y-%m-%dT%H:%M:%SZ} reticent {_command(args)}\n", *_describe(exc)]
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        return None
    return path
