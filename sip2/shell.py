"""`reticent sip2 shell HOST:PORT`: type SIP2 requests by name, read the answers field by field."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import ssl
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Final

import trio

from sip2.client import Sip2Client, Sip2ClientError, frame_raw
from sip2.codec import (
    Checkin,
    Checkout,
    EndPatronSession,
    ItemInformation,
    Login,
    Message,
    PatronInformation,
    PatronStatusRequest,
    ProtocolError,
    Renew,
    SCStatus,
    TerminalSettings,
    parse_message,
)

Write = Callable[[str], None]

HELP: Final = """\
login USER PASSWORD [LOCATION]   93 sign the terminal in
status                           99 ask for the server's status
patron-status PATRON [PIN]       23 patron status
patron-info PATRON [PIN]         63 patron information
item-info ITEM                   17 item information
checkout PATRON ITEM [PIN]       11 lend an item
checkin ITEM                     09 return an item
renew PATRON ITEM [PIN]          29 renew an item
end PATRON                       35 end the patron session
raw BODY                         send BODY as typed (AY/AZ and terminator are added)
institution ID                   the AO sent with requests (default: empty, the server's own)
help                             this list
quit                             leave"""
_PRINT_WIDTH: Final = 40


class UsageError(Exception):
    """A line the shell cannot turn into a request."""


@dataclasses.dataclass
class _Shell:
    institution: str = ""
    sequence: int = 0

    def build(self, name: str, args: list[str], now: dt.datetime) -> Message:
        ao = self.institution

        def need(low: int, high: int, usage: str) -> None:
            if not low <= len(args) <= high:
                raise UsageError(f"usage: {name} {usage}")

        def opt(index: int) -> str | None:
            return args[index] if len(args) > index else None

        if name == "login":
            need(2, 3, "USER PASSWORD [LOCATION]")
            return Login(login_user_id=args[0], login_password=args[1], location_code=opt(2))
        if name == "status":
            need(0, 0, "")
            return SCStatus(max_print_width=_PRINT_WIDTH)
        if name == "patron-status":
            need(1, 2, "PATRON [PIN]")
            return PatronStatusRequest(
                transaction_date=now,
                institution_id=ao,
                patron_id=args[0],
                terminal_password="",
                patron_password=opt(1) or "",
            )
        if name == "patron-info":
            need(1, 2, "PATRON [PIN]")
            return PatronInformation(
                transaction_date=now, institution_id=ao, patron_id=args[0], patron_password=opt(1)
            )
        if name == "item-info":
            need(1, 1, "ITEM")
            return ItemInformation(transaction_date=now, institution_id=ao, item_id=args[0])
        if name == "checkout":
            need(2, 3, "PATRON ITEM [PIN]")
            return Checkout(
                sc_renewal_policy=False,
                no_block=False,
                transaction_date=now,
                institution_id=ao,
                patron_id=args[0],
                item_id=args[1],
                terminal_password="",
                patron_password=opt(2),
            )
        if name == "checkin":
            need(1, 1, "ITEM")
            return Checkin(
                no_block=False,
                transaction_date=now,
                return_date=now,
                current_location="",
                institution_id=ao,
                item_id=args[0],
                terminal_password="",
            )
        if name == "renew":
            need(2, 3, "PATRON ITEM [PIN]")
            return Renew(
                third_party_allowed=False,
                no_block=False,
                transaction_date=now,
                institution_id=ao,
                patron_id=args[0],
                item_id=args[1],
                patron_password=opt(2),
            )
        if name == "end":
            need(1, 1, "PATRON")
            return EndPatronSession(transaction_date=now, institution_id=ao, patron_id=args[0])
        raise UsageError(f"unknown request {name!r}; type help")


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, frozenset):
        return " ".join(sorted(str(item) for item in value))
    if isinstance(value, tuple):
        return " / ".join(str(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # PatronStatus, Summary: the names of the flags that are set.
        return ", ".join(f.name for f in dataclasses.fields(value) if getattr(value, f.name))
    return str(value)


def describe(answer: Message) -> list[str]:
    """``field: value`` lines for the fields of ``answer`` that are set, extensions last."""
    lines = [f"-- {answer.COMMAND} {type(answer).__name__}"]
    for declared in dataclasses.fields(answer):
        if declared.name == "extra":
            continue
        text = _show(getattr(answer, declared.name))
        if text:
            lines.append(f"{declared.name}: {text}")
    lines.extend(f"{code}: {value}" for code, value in answer.extra)
    return lines


async def run_shell(
    host: str,
    port: int,
    stdin_lines: AsyncIterable[str],
    write: Write,
    *,
    ssl_context: ssl.SSLContext | None = None,
    settings: TerminalSettings | None = None,
    clock: Callable[[], dt.datetime] = dt.datetime.now,
) -> int:
    """Read commands from ``stdin_lines`` until ``quit`` or the end; 0 when done, 1 on failure.

    ``clock`` gives the transaction dates (naive local time, as SIP2 dates with no zone are).
    """
    settings = settings if settings is not None else TerminalSettings()
    try:
        client = await Sip2Client.connect(host, port, ssl_context=ssl_context, settings=settings)
    except (OSError, trio.TooSlowError, trio.BrokenResourceError) as error:
        write(f"cannot connect to {host}:{port}: {str(error) or type(error).__name__}")
        return 1
    shell = _Shell()
    async with client:
        async for line in stdin_lines:
            words = line.split()
            if not words:
                continue
            name, args = words[0].lower(), words[1:]
            if name in ("quit", "exit"):
                break
            if name == "help":
                write(HELP)
                continue
            if name == "institution":
                shell.institution = " ".join(args)
                continue
            try:
                if name == "raw":
                    raw = line.strip()[len(words[0]) :].strip()
                    shell.sequence = (shell.sequence + 1) % 10
                    answer = await client.send_raw(
                        frame_raw(raw, sequence=shell.sequence, settings=settings)
                    )
                    write(f"<< {answer.decode(settings.encoding, errors='replace')}")
                    try:
                        lines = describe(parse_message(answer, settings))
                    except ProtocolError as error:
                        lines = [f"(not a message this shell can read: {error})"]
                else:
                    lines = describe(await client.request(shell.build(name, args, clock())))
            except UsageError as error:
                write(str(error))
                continue
            except ProtocolError as error:
                write(f"cannot send that: {error}")
                continue
            except (Sip2ClientError, trio.TooSlowError) as error:
                write(f"connection failed: {str(error) or type(error).__name__}")
                return 1
            for text in lines:
                write(text)
    return 0


async def _stdin_lines() -> AsyncIterator[str]:
    prompt = sys.stdin.isatty()
    while True:
        if prompt:
            print("sip2> ", end="", flush=True)
        line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
        if not line:
            return
        yield line


def parse_target(target: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:6001`` for IPv6) as (host, port); ValueError when malformed."""
    host, _, port_text = target.rpartition(":")
    host = host.strip("[]")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"expected HOST:PORT, got {target!r}")
    return host, int(port_text)


def main_shell(target: str, *, ssl_context: ssl.SSLContext | None = None) -> int:
    """Run the shell on standard input and output; the exit status (2 for a bad target)."""
    try:
        host, port = parse_target(target)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    run = functools.partial(run_shell, host, port, _stdin_lines(), print, ssl_context=ssl_context)
    return trio.run(run)
