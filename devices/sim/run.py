"""Running a simulator: a pty, a console on standard input, the device's protocol on the pty."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

import trio

from devices.protocols.barcode import BarcodeFraming, encode_read
from devices.protocols.errors import EncodeError
from devices.sim.pty_port import SimPort
from devices.sim.readers import FeigModel, ReaderModel, ThreeMModel
from devices.sim.tags import CommandError, Pad

ReaderKind = Literal["feig", "3m"]
SCANNER_HELP = "each line is sent as one scan; !unplug and !plug close and reopen the port, !help"


@dataclass(frozen=True)
class ScannerSim:
    """How the simulated scanner frames its reads."""

    framing: BarcodeFraming = field(default_factory=BarcodeFraming)
    aim: str | None = None  # an AIM id sent before each barcode, e.g. "]C0"


async def _lines(stdin: TextIO) -> trio.MemoryReceiveChannel[str]:
    """Standard input line by line (a thread: the simulator is not a driver, and making the
    terminal's descriptor non-blocking would break the shell it belongs to)."""
    send, receive = trio.open_memory_channel[str](64)

    async def pump() -> None:
        async with send:
            while True:
                line = await trio.to_thread.run_sync(stdin.readline, abandon_on_cancel=True)
                if not line:
                    return
                await send.send(line.rstrip("\r\n"))

    trio.lowlevel.spawn_system_task(pump)
    return receive


async def _port_command(port: SimPort, command: str) -> str | None:
    if command == "unplug":
        await port.unplug()
        return "unplugged"
    if command == "plug":
        port.plug()
        return f"plugged in at {port.path}"
    return None


async def run_scanner(
    port: SimPort,
    config: ScannerSim,
    lines: trio.MemoryReceiveChannel[str],
    say: Callable[[str], None],
) -> None:
    """Send each line as a scan until ``lines`` ends."""
    gap = config.framing.idle_gap_s * 2 if config.framing.terminator == "none" else 0.0
    async for line in lines:
        if line.startswith("!"):
            answer = await _port_command(port, line[1:].strip())
            say(answer if answer is not None else SCANNER_HELP)
            continue
        if not line:
            continue
        try:
            data = encode_read(line, config.framing, config.aim)
        except EncodeError as error:
            say(f"not sent: {error}")
            continue
        if not await port.send_all(data):
            say("not sent: unplugged")
        elif gap:
            await trio.sleep(gap)  # without a terminator only silence ends a read


async def serve_reader(port: SimPort, model: ReaderModel) -> None:
    """Answer the driver's requests for as long as the simulator runs."""
    while True:
        data = await port.receive_some()
        if data:
            reply = model.receive_data(data)
            if reply:
                await port.send_all(reply)


def reader_model(kind: ReaderKind, pad: Pad) -> ReaderModel:
    return FeigModel(pad) if kind == "feig" else ThreeMModel(pad)


async def run_reader_console(
    port: SimPort,
    pad: Pad,
    lines: trio.MemoryReceiveChannel[str],
    say: Callable[[str], None],
) -> None:
    async for line in lines:
        await reader_command(port, pad, line, say)


async def reader_command(port: SimPort, pad: Pad, line: str, say: Callable[[str], None]) -> None:
    text = line.strip()
    if not text or text.startswith("#"):
        return
    answer = await _port_command(port, text.lower())
    if answer is None:
        try:
            answer = pad.run(text)
        except CommandError as error:
            answer = f"error: {error}"
    if answer:
        say(answer)


async def main(
    kind: Literal["scanner", "feig", "3m"],
    *,
    link: Path | None,
    stdin: TextIO,
    stdout: TextIO,
    scanner: ScannerSim = ScannerSim(),
    script: Iterable[str] = (),
) -> None:
    """The ``reticent sim`` process: the port's path first on standard output, then answers."""

    def say(text: str) -> None:
        print(text, file=stdout, flush=True)

    port = SimPort(link)
    port.plug()
    say(port.path)
    lines = await _lines(stdin)
    try:
        if kind == "scanner":
            await run_scanner(port, scanner, lines, say)
            await trio.sleep_forever()  # keep the port open after the end of input
        pad = Pad()
        for line in script:
            await reader_command(port, pad, line, say)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve_reader, port, reader_model(kind, pad))
            await run_reader_console(port, pad, lines, say)
            await trio.sleep_forever()
    finally:
        with trio.CancelScope(shield=True), contextlib.suppress(OSError):
            await port.aclose()
