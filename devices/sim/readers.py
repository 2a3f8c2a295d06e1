"""Simulated reader firmware, sans I/O: request bytes in, reply bytes out, for Feig and 3M."""

from __future__ import annotations

from typing import Protocol

from devices.protocols import feig, threem
from devices.protocols.errors import DecodeError
from devices.sim.tags import BLOCK_BYTES, TAG_BLOCKS, Pad, SimTag

FEIG_UNKNOWN_COMMAND = 0x80
FEIG_TRANSPONDER_TYPE_ISO15693 = 0x03
THREEM_UNKNOWN_COMMAND = 0x01


class ReaderModel(Protocol):
    def receive_data(self, data: bytes) -> bytes:
        """The replies to the whole requests in ``data`` (and any before it)."""
        ...


class FeigModel:
    """Answers ISO-host requests the way an OBID classic-pro reader does."""

    def __init__(self, pad: Pad) -> None:
        self.pad = pad
        self._reader = feig.FrameReader(replies=False)

    def receive_data(self, data: bytes) -> bytes:
        out = b""
        try:
            self._reader.receive_data(data)
            while (request := self._reader.next_frame()) is not None:
                reply = self.answer(request)
                out += feig.encode_frame(reply)
        except DecodeError:
            pass  # a damaged request gets no answer; the host times out and asks again
        return out

    def answer(self, request: feig.FeigFrame) -> feig.FeigFrame:
        data, command = request.data, request.command
        if command == feig.CMD_ISO and data[:1] == bytes([feig.ISO_INVENTORY]):
            tags = tuple(
                feig.InventoryTag(FEIG_TRANSPONDER_TYPE_ISO15693, 0, uid) for uid in self.pad.tags
            )
            return feig.inventory_reply(tags)
        tag = self._addressed(request)
        if tag is None:
            return feig.status_reply(command, feig.STATUS_NO_TRANSPONDER)
        sub = data[0]
        args = data[2 + feig.UID_BYTES :]
        if command == feig.CMD_ISO and sub == feig.ISO_SYSTEM_INFO:
            info = feig.SystemInfo(0, tag.uid, tag.afi, BLOCK_BYTES, TAG_BLOCKS)
            return feig.system_info_reply(info)
        if command == feig.CMD_ISO and sub == feig.ISO_READ_BLOCKS and len(args) == 2:
            first, count = args
            if first + count > TAG_BLOCKS:
                return feig.status_reply(command, feig.STATUS_RF_ERROR)
            return feig.blocks_reply(_blocks(tag, first, count))
        if command == feig.CMD_ISO and sub == feig.ISO_WRITE_BLOCKS and len(args) >= 3:
            first, count, size = args[:3]
            payload = args[3:]
            if size != BLOCK_BYTES or len(payload) != count * size or first + count > TAG_BLOCKS:
                return feig.status_reply(command, feig.STATUS_WRITE_ERROR)
            if self.pad.take_write_failure():
                return feig.status_reply(command, feig.STATUS_WRITE_ERROR)
            tag.memory[first * size : (first + count) * size] = payload
            return feig.status_reply(command, feig.STATUS_OK)
        if command == feig.CMD_ISO and sub == feig.ISO_WRITE_AFI and len(args) == 1:
            if self.pad.take_write_failure():
                return feig.status_reply(command, feig.STATUS_WRITE_ERROR)
            tag.afi = args[0]
            return feig.status_reply(command, feig.STATUS_OK)
        if command == feig.CMD_CUSTOM and sub in (feig.NXP_SET_EAS, feig.NXP_RESET_EAS):
            if self.pad.take_write_failure():
                return feig.status_reply(command, feig.STATUS_WRITE_ERROR)
            tag.eas = sub == feig.NXP_SET_EAS
            return feig.status_reply(command, feig.STATUS_OK)
        if command == feig.CMD_CUSTOM and sub == feig.NXP_EAS_ALARM:
            status = feig.STATUS_OK if tag.eas else feig.STATUS_NO_TRANSPONDER
            return feig.status_reply(command, status)
        return feig.status_reply(command, FEIG_UNKNOWN_COMMAND)

    def _addressed(self, request: feig.FeigFrame) -> SimTag | None:
        data = request.data
        if request.command == feig.CMD_CUSTOM:
            # sub-command, manufacturer, mode, UID
            uid = data[3 : 3 + feig.UID_BYTES] if len(data) >= 3 + feig.UID_BYTES else b""
        else:
            uid = data[2 : 2 + feig.UID_BYTES] if len(data) >= 2 + feig.UID_BYTES else b""
        return self.pad.tags.get(bytes(uid))


class ThreeMModel:
    """Answers 3M 210/810 requests."""

    def __init__(self, pad: Pad) -> None:
        self.pad = pad
        self._reader = threem.FrameReader(replies=False)

    def receive_data(self, data: bytes) -> bytes:
        out = b""
        try:
            self._reader.receive_data(data)
            while (request := self._reader.next_frame()) is not None:
                out += threem.encode_frame(self.answer(request))
        except DecodeError:
            pass
        return out

    def answer(self, request: threem.ThreeMFrame) -> threem.ThreeMFrame:
        command, data = request.command, request.data
        if command == threem.CMD_INVENTORY:
            return threem.inventory_reply(tuple(self.pad.tags))
        tag = self.pad.tags.get(bytes(data[: threem.UID_BYTES]))
        args = data[threem.UID_BYTES :]
        if command not in (
            threem.CMD_READ_BLOCKS,
            threem.CMD_WRITE_BLOCKS,
            threem.CMD_READ_AFI,
            threem.CMD_WRITE_AFI,
            threem.CMD_CHECK_EAS,
        ):
            return threem.error_reply(command, THREEM_UNKNOWN_COMMAND)
        if tag is None:
            return threem.error_reply(command, threem.ERROR_NO_TAG)
        if command == threem.CMD_READ_BLOCKS and len(args) == 2:
            first, count = args
            if first + count > TAG_BLOCKS:
                return threem.error_reply(command, threem.ERROR_NO_TAG)
            return threem.blocks_reply(tag.uid, first, _blocks(tag, first, count))
        if command == threem.CMD_WRITE_BLOCKS and len(args) >= 3:
            first, count = args[0], args[1]
            payload = args[3:]
            if len(payload) != count * BLOCK_BYTES or first + count > TAG_BLOCKS:
                return threem.error_reply(command, threem.ERROR_WRITE_FAILED)
            if self.pad.take_write_failure():
                return threem.error_reply(command, threem.ERROR_WRITE_FAILED)
            tag.memory[first * BLOCK_BYTES : (first + count) * BLOCK_BYTES] = payload
            return threem.uid_reply(command, tag.uid, bytes([count]))
        if command == threem.CMD_READ_AFI:
            return threem.uid_reply(command, tag.uid, bytes([tag.afi]))
        if command == threem.CMD_WRITE_AFI and len(args) == 1:
            if self.pad.take_write_failure():
                return threem.error_reply(command, threem.ERROR_WRITE_FAILED)
            tag.afi = args[0]
            return threem.uid_reply(command, tag.uid)
        if command == threem.CMD_CHECK_EAS:
            return threem.uid_reply(command, tag.uid, b"\x01" if tag.eas else b"\x00")
        return threem.error_reply(command, THREEM_UNKNOWN_COMMAND)


def _blocks(tag: SimTag, first: int, count: int) -> tuple[bytes, ...]:
    return tuple(
        bytes(tag.memory[at * BLOCK_BYTES : (at + 1) * BLOCK_BYTES])
        for at in range(first, first + count)
    )
