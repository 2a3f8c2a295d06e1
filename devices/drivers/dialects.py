"""The two RFID reader protocols behind one interface: inventory, read a tag, write security."""

from __future__ import annotations

from typing import Protocol

import trio

from devices.drivers.serial_port import SerialTransport
from devices.protocols import feig, threem
from devices.protocols.errors import DecodeError


class NoReply(Exception):
    """The reader did not answer in time, or answered with bytes that are not a frame."""


class TagWriteFailed(Exception):
    """A write to a tag (AFI, EAS, blocks) was refused or the tag is gone."""


class Dialect(Protocol):
    """One reader protocol; every call is one request and its reply (or NoReply)."""

    async def inventory(self, port: SerialTransport) -> tuple[bytes, ...]: ...

    async def read_tag(self, port: SerialTransport, uid: bytes, blocks: int) -> tuple[bytes, int]:
        """The tag's first ``blocks`` blocks of data, and its AFI."""
        ...

    async def write_afi(self, port: SerialTransport, uid: bytes, afi: int) -> None: ...

    async def set_eas(self, port: SerialTransport, uid: bytes, armed: bool) -> None: ...

    async def read_eas(self, port: SerialTransport, uid: bytes) -> bool: ...


class FeigDialect:
    """Feig ISO-host (OBID classic-pro): ISO 15693 commands 0xB0, NXP EAS through 0xB1."""

    def __init__(self, reply_timeout_s: float, address: int = feig.ANY_ADDRESS) -> None:
        self.reply_timeout_s = reply_timeout_s
        self.address = address

    async def _exchange(self, port: SerialTransport, request: feig.FeigFrame) -> feig.FeigFrame:
        reader = feig.FrameReader(replies=True)
        await port.send_all(feig.encode_frame(request))
        with trio.move_on_after(self.reply_timeout_s):
            while True:
                try:
                    reader.receive_data(await port.receive_some())
                    while (frame := reader.next_frame()) is not None:
                        if (
                            frame.command == request.command
                        ):  # a late reply to a timed-out request is skipped
                            return frame
                except DecodeError as error:
                    raise NoReply(f"unreadable reply ({error.reason})") from None
        raise NoReply("no reply")

    async def inventory(self, port: SerialTransport) -> tuple[bytes, ...]:
        uids: list[bytes] = []
        more = False
        while True:
            reply = await self._exchange(port, feig.inventory(more=more, address=self.address))
            try:
                uids += [tag.uid for tag in feig.parse_inventory(reply)]
            except DecodeError as error:
                raise NoReply(f"inventory failed ({error.reason})") from None
            if reply.status != feig.STATUS_MORE_DATA:
                return tuple(uids)
            more = True

    async def read_tag(self, port: SerialTransport, uid: bytes, blocks: int) -> tuple[bytes, int]:
        try:
            info = feig.parse_system_info(
                await self._exchange(port, feig.system_info(uid, address=self.address))
            )
            count = min(blocks, info.block_count)
            reply = await self._exchange(
                port, feig.read_blocks(uid, 0, count, address=self.address)
            )
            return b"".join(feig.parse_blocks(reply)), info.afi
        except DecodeError as error:
            raise NoReply(f"tag not read ({error.reason})") from None

    async def _write(self, port: SerialTransport, request: feig.FeigFrame) -> None:
        try:
            reply = await self._exchange(port, request)
        except NoReply as error:
            raise TagWriteFailed(str(error)) from None
        if reply.status != feig.STATUS_OK:
            raise TagWriteFailed(f"reader status {reply.status:#04x}")

    async def write_afi(self, port: SerialTransport, uid: bytes, afi: int) -> None:
        await self._write(port, feig.write_afi(uid, afi, address=self.address))

    async def set_eas(self, port: SerialTransport, uid: bytes, armed: bool) -> None:
        await self._write(port, feig.set_eas(uid, armed, address=self.address))

    async def read_eas(self, port: SerialTransport, uid: bytes) -> bool:
        reply = await self._exchange(port, feig.eas_alarm(uid, address=self.address))
        return reply.status == feig.STATUS_OK


class ThreeMDialect:
    """3M / Bibliotheca 210 and 810. EAS can be read (0x03) but not written by this protocol."""

    def __init__(self, reply_timeout_s: float) -> None:
        self.reply_timeout_s = reply_timeout_s

    async def _exchange(
        self, port: SerialTransport, request: threem.ThreeMFrame
    ) -> threem.ThreeMFrame:
        reader = threem.FrameReader(replies=True)
        await port.send_all(threem.encode_frame(request))
        with trio.move_on_after(self.reply_timeout_s):
            while True:
                try:
                    reader.receive_data(await port.receive_some())
                    while (frame := reader.next_frame()) is not None:
                        if frame.command == request.command:
                            return frame
                except DecodeError as error:
                    raise NoReply(f"unreadable reply ({error.reason})") from None
        raise NoReply("no reply")

    async def inventory(self, port: SerialTransport) -> tuple[bytes, ...]:
        reply = await self._exchange(port, threem.inventory())
        try:
            return threem.parse_inventory(reply)
        except DecodeError as error:
            raise NoReply(f"inventory failed ({error.reason})") from None

    async def read_tag(self, port: SerialTransport, uid: bytes, blocks: int) -> tuple[bytes, int]:
        try:
            _, numbered = threem.parse_blocks(
                await self._exchange(port, threem.read_blocks(uid, 0, blocks))
            )
            _, afi = threem.parse_uid_reply(
                await self._exchange(port, threem.read_afi(uid)), threem.CMD_READ_AFI
            )
        except DecodeError as error:
            raise NoReply(f"tag not read ({error.reason})") from None
        if len(afi) != 1:
            raise NoReply("AFI reply of the wrong length")
        return b"".join(block for _, block in sorted(numbered)), afi[0]

    async def write_afi(self, port: SerialTransport, uid: bytes, afi: int) -> None:
        try:
            reply = await self._exchange(port, threem.write_afi(uid, afi))
            threem.parse_uid_reply(reply, threem.CMD_WRITE_AFI)
        except (NoReply, DecodeError) as error:
            raise TagWriteFailed(str(error)) from None

    async def set_eas(self, port: SerialTransport, uid: bytes, armed: bool) -> None:
        raise TagWriteFailed("the 3M protocol has no command to set EAS; use AFI")

    async def read_eas(self, port: SerialTransport, uid: bytes) -> bool:
        try:
            _, state = threem.parse_uid_reply(
                await self._exchange(port, threem.check_eas(uid)), threem.CMD_CHECK_EAS
            )
        except DecodeError as error:
            raise NoReply(f"EAS not read ({error.reason})") from None
        return state[:1] == b"\x01"
