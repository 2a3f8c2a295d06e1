"""A serial port for trio: pyserial sets the line up, trio reads a dup of its descriptor.

No thread per device and no polling: ``trio.lowlevel.FdStream`` waits on the descriptor.
"""

from __future__ import annotations

import os
import termios
from dataclasses import dataclass
from typing import Final, Literal

import serial
import trio

Parity = Literal["none", "even", "odd"]
_PARITY: Final[dict[str, str]] = {
    "none": serial.PARITY_NONE,
    "even": serial.PARITY_EVEN,
    "odd": serial.PARITY_ODD,
}
RECEIVE_SIZE: Final = 4096


class PortError(Exception):
    """The port cannot be opened, or it failed (unplugged, closed by the other end)."""


@dataclass(frozen=True)
class SerialSpec:
    """Where a device is and how its line is set: 8 data bits, 1 stop bit, no flow control."""

    path: str
    baud: int = 9600
    parity: Parity = "none"


class SerialTransport:
    """One open port; every failure is a PortError."""

    def __init__(self, port: serial.Serial, stream: trio.lowlevel.FdStream) -> None:
        self._port = port
        self._stream = stream

    @classmethod
    def open(cls, spec: SerialSpec) -> SerialTransport:
        """Open and set up the port (quick: pyserial opens it non-blocking)."""
        try:
            # exclusive: a second program opening the same reader would steal its replies.
            port = serial.Serial(
                spec.path,
                spec.baud,
                parity=_PARITY[spec.parity],
                bytesize=serial.EIGHTBITS,
                stopbits=serial.STOPBITS_ONE,
                timeout=0,
                exclusive=True,
            )
        except (OSError, ValueError, serial.SerialException) as error:
            raise PortError(_describe(error)) from None
        try:
            _wait_for_one_byte(port.fileno())
            stream = trio.lowlevel.FdStream(os.dup(port.fileno()))
        except (OSError, termios.error, serial.SerialException) as error:
            port.close()
            raise PortError(_describe(error)) from None
        return cls(port, stream)

    async def receive_some(self) -> bytes:
        """The next bytes; PortError when the port is gone (end of file counts)."""
        try:
            data = await self._stream.receive_some(RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as error:
            raise PortError(_describe(error)) from None
        if not data:
            raise PortError("the port was closed")
        return bytes(data)

    async def send_all(self, data: bytes) -> None:
        try:
            await self._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as error:
            raise PortError(_describe(error)) from None

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._port.close()


def _wait_for_one_byte(fd: int) -> None:
    """VMIN 1, VTIME 0: pyserial leaves VMIN 0, so a read of an empty line returns 0 bytes,
    which reads as end of file; with VMIN 1 a non-blocking read says "try again" instead."""
    attributes = termios.tcgetattr(fd)
    attributes[6][termios.VMIN] = 1
    attributes[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attributes)


def _describe(error: BaseException) -> str:
    cause = error.__cause__ if error.__cause__ is not None else error
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(error) or type(error).__name__
