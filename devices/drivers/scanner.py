"""The barcode scanner driver: reads from a serial port, emits BarcodeScanned."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import trio

from devices.drivers.events import BarcodeScanned, DeviceEvent
from devices.drivers.serial_port import SerialSpec, SerialTransport
from devices.drivers.supervise import Backoff, supervise_port
from devices.protocols.barcode import BarcodeFramer, BarcodeFraming, decode_read
from devices.protocols.errors import DecodeError

log = logging.getLogger("reticent.devices")


@dataclass(frozen=True)
class ScannerConfig:
    """One scanner: its name in events, its port, how its reads are framed."""

    name: str
    port: SerialSpec
    framing: BarcodeFraming = field(default_factory=BarcodeFraming)
    backoff: Backoff = field(default_factory=Backoff)


class Scanner:
    """Runs one scanner until cancelled: ``await Scanner(config).run(events)``.

    Emits BarcodeScanned for each read, DeviceLost/DeviceBack as the port comes and goes.
    Reads that cannot be decoded are dropped (and counted in ``rejected``), never logged:
    a read may be a patron's card (PRIV-16).
    """

    def __init__(self, config: ScannerConfig) -> None:
        self.config = config
        self.rejected = 0

    async def run(
        self,
        events: trio.MemorySendChannel[DeviceEvent],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async def session(transport: SerialTransport) -> None:
            await self._read(transport, events)

        config = self.config
        await supervise_port(
            config.name, config.port, session, events, config.backoff, task_status=task_status
        )

    async def _read(
        self, transport: SerialTransport, events: trio.MemorySendChannel[DeviceEvent]
    ) -> None:
        framing = self.config.framing
        framer = BarcodeFramer(framing)
        while True:
            deadline = framer.deadline
            data = b""
            with trio.move_on_at(math.inf if deadline is None else deadline):
                data = await transport.receive_some()
            now = trio.current_time()
            raws = framer.receive_data(data, now) if data else framer.flush_idle(now)
            for raw in raws:
                try:
                    scan = decode_read(raw, framing)
                except DecodeError as error:
                    self.rejected += 1
                    log.info(
                        "scan not readable",
                        extra={"fields": {"device": self.config.name, "reason": error.reason}},
                    )
                    continue
                await events.send(BarcodeScanned(self.config.name, scan.data, scan.symbology, now))
