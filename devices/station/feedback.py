"""What a person at the station sees and hears besides the log: a bell, a serial line display."""

from __future__ import annotations

import logging
from typing import TextIO

import trio

from devices.drivers.serial_port import PortError, SerialSpec, SerialTransport

log = logging.getLogger("reticent.station")
BELL = b"\x07"


class Feedback:
    """Rings the bell on a problem (if asked to) and shows each result on the display (if any).

    The display is opened when first needed and again after it fails; a display that is
    missing never stops the station.
    """

    def __init__(self, *, bell: bool, display: SerialSpec | None, terminal: TextIO) -> None:
        self.bell = bell
        self.display = display
        self.terminal = terminal
        self._port: SerialTransport | None = None
        self._warned = False

    async def show(self, line: str, *, problem: bool) -> None:
        if self.display is not None:
            data = line.encode("ascii", errors="replace") + b"\r\n"
            await self._send((BELL if problem and self.bell else b"") + data)
        elif problem and self.bell:
            self.terminal.write("\a")
            self.terminal.flush()

    async def _send(self, data: bytes) -> None:
        assert self.display is not None
        try:
            if self._port is None:
                self._port = SerialTransport.open(self.display)
            with trio.move_on_after(1.0):
                await self._port.send_all(data)
            self._warned = False
        except PortError as error:
            if not self._warned:
                log.warning("display unavailable", extra={"fields": {"reason": str(error)}})
                self._warned = True
            await self.aclose()

    async def aclose(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with trio.CancelScope(shield=True):
                await port.aclose()
