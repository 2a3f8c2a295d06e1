"""Device drivers on trio over serial ports, reconnecting on unplug (see docs/devices.md).

Each driver runs until cancelled and reports on a trio memory channel::

    send, receive = trio.open_memory_channel[DeviceEvent](100)
    nursery.start_soon(Scanner(ScannerConfig("desk", SerialSpec("/dev/ttyACM0"))).run, send)
    async for event in receive: ...

The same code runs with trio as a guest inside an asyncio program
(``trio.lowlevel.start_guest_run``), which is how the Textual kiosk uses it.
"""

from devices.drivers.dialects import NoReply, TagWriteFailed
from devices.drivers.events import (
    BarcodeScanned,
    DeviceBack,
    DeviceEvent,
    DeviceLost,
    PadItem,
    TagArrived,
    TagLeft,
)
from devices.drivers.rfid import ReaderConfig, ReaderKind, RfidReader, SecurityScheme
from devices.drivers.scanner import Scanner, ScannerConfig
from devices.drivers.serial_port import Parity, PortError, SerialSpec, SerialTransport
from devices.drivers.supervise import Backoff

__all__ = [
    "Backoff",
    "BarcodeScanned",
    "DeviceBack",
    "DeviceEvent",
    "DeviceLost",
    "NoReply",
    "PadItem",
    "Parity",
    "PortError",
    "ReaderConfig",
    "ReaderKind",
    "RfidReader",
    "Scanner",
    "ScannerConfig",
    "SecurityScheme",
    "SerialSpec",
    "SerialTransport",
    "TagArrived",
    "TagLeft",
    "TagWriteFailed",
]
