"""A pseudo-terminal standing in for a device's serial port, with unplug and plug."""

from __future__ import annotations

import contextlib
import os
import tty
from pathlib import Path

import trio


class SimPort:
    """The device end of a pty; ``path`` is what a driver opens.

    With ``link`` the path is a symbolic link to the pty, moved to the new pty on ``plug``,
    so a driver finds a replugged device where it was (as a udev rule does for hardware).
    The simulator keeps the terminal end open itself, so the pty survives a driver closing it.
    """

    def __init__(self, link: Path | None = None) -> None:
        self.link = link
        self._master: int | None = None
        self._slave: int | None = None
        self._stream: trio.lowlevel.FdStream | None = None
        self.plugged = trio.Event()

    @property
    def path(self) -> str:
        if self.link is not None:
            return str(self.link)
        if self._slave is None:
            raise RuntimeError("the simulated port is unplugged")
        return os.ttyname(self._slave)

    def plug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: bytes pass as they are
        self._master, self._slave = master, slave
        self._stream = trio.lowlevel.FdStream(master)
        if self.link is not None:
            temporary = self.link.with_name(self.link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            temporary.symlink_to(os.ttyname(slave))
            os.replace(temporary, self.link)
        self.plugged.set()

    async def unplug(self) -> None:
        """Close the pty, as pulling the cable does: the driver's reads fail."""
        if self._stream is None:
            return
        stream, slave = self._stream, self._slave
        self._stream = self._master = self._slave = None
        self.plugged = trio.Event()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
        await stream.aclose()
        if slave is not None:
            os.close(slave)

    async def receive_some(self) -> bytes:
        """Bytes the driver wrote; waits while unplugged; b"" when just unplugged."""
        while self._stream is None:
            await self.plugged.wait()
        stream = self._stream
        try:
            return bytes(await stream.receive_some(4096))
        except (trio.ClosedResourceError, trio.BrokenResourceError, OSError):
            return b""

    async def send_all(self, data: bytes) -> bool:
        """Write to the driver; False when unplugged (the bytes are lost, as on a real line)."""
        stream = self._stream
        if stream is None:
            return False
        try:
            await stream.send_all(data)
        except (trio.ClosedResourceError, trio.BrokenResourceError, OSError):
            return False
        return True

    async def aclose(self) -> None:
        await self.unplug()
