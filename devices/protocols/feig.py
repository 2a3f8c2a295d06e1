"""Feig ISO-host protocol (OBID classic-pro readers): frames, CRC and the ISO 15693 commands.

Standard frame: ``LEN | COM-ADR | CMD | data | CRC-lo | CRC-hi``, LEN counting every byte.
Advanced frame (for more than 255 bytes): ``0x02 | LEN-hi | LEN-lo | COM-ADR | CMD | ...``.
A reply carries a STATUS byte after CMD. The CRC (crc16_feig) covers everything before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from devices.protocols.crc import crc16_feig
from devices.protocols.errors import (
    CRC,
    MALFORMED,
    OVERSIZE,
    TRUNCATED,
    UNEXPECTED,
    DecodeError,
    EncodeError,
)

ANY_ADDRESS: Final = 0xFF  # COM-ADR every reader answers to
ADVANCED: Final = 0x02
MAX_STANDARD_FRAME: Final = 255
# The largest frame the readers send (advanced protocol, 16-bit length); anything longer is noise.
MAX_FRAME: Final = 0xFFFF
UID_BYTES: Final = 8

CMD_ISO: Final = 0xB0  # ISO 15693 host commands
CMD_CUSTOM: Final = 0xB1  # manufacturer commands (NXP EAS)
ISO_INVENTORY: Final = 0x01
ISO_READ_BLOCKS: Final = 0x23
ISO_WRITE_BLOCKS: Final = 0x24
ISO_WRITE_AFI: Final = 0x27
ISO_SYSTEM_INFO: Final = 0x2B
NXP_SET_EAS: Final = 0xA2
NXP_RESET_EAS: Final = 0xA3
NXP_EAS_ALARM: Final = 0xA5
NXP: Final = 0x04  # ISO/IEC 7816-6 manufacturer code
MODE_ADDRESSED: Final = 0x01  # the request names the tag by UID
MODE_MORE: Final = 0x80  # inventory: continue a reply that ended with STATUS_MORE_DATA

STATUS_OK: Final = 0x00
STATUS_NO_TRANSPONDER: Final = 0x01
STATUS_WRITE_ERROR: Final = 0x03
STATUS_RF_ERROR: Final = 0x83
STATUS_MORE_DATA: Final = 0x94


@dataclass(frozen=True)
class FeigFrame:
    """One frame: a request (``status`` None) or a reply."""

    command: int
    data: bytes = b""
    status: int | None = None
    address: int = ANY_ADDRESS


def encode_frame(frame: FeigFrame) -> bytes:
    """The bytes of ``frame``; the advanced form when the standard one cannot hold it."""
    head = bytes([frame.address, frame.command])
    if frame.status is not None:
        head += bytes([frame.status])
    length = 1 + len(head) + len(frame.data) + 2
    if length <= MAX_STANDARD_FRAME:
        body = bytes([length]) + head + frame.data
    else:
        length += 2
        if length > MAX_FRAME:
            raise EncodeError("frame longer than the advanced protocol allows")
        body = bytes([ADVANCED, length >> 8, length & 0xFF]) + head + frame.data
    crc = crc16_feig(body)
    return body + bytes([crc & 0xFF, crc >> 8])


class FrameReader:
    """Cuts frames out of a byte stream, sans I/O; ``replies`` says whether STATUS is present.

    ``receive_data`` then ``next_frame`` until it returns None. A frame with a bad CRC or
    length raises DecodeError and is dropped with everything received so far (the protocol
    is one request, one reply: the sender asks again).
    """

    def __init__(self, *, replies: bool) -> None:
        self.replies = replies
        self._buffer = bytearray()

    def receive_data(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > MAX_FRAME:
            self._buffer.clear()
            raise DecodeError(OVERSIZE, "more bytes than any frame")

    @property
    def buffered(self) -> int:
        """Bytes received that are not yet part of a whole frame."""
        return len(self._buffer)

    def next_frame(self) -> FeigFrame | None:
        buffer = self._buffer
        if not buffer:
            return None
        if buffer[0] == ADVANCED:
            if len(buffer) < 3:
                return None
            length, head = (buffer[1] << 8) | buffer[2], 3
        else:
            length, head = buffer[0], 1
        minimum = head + (4 if self.replies else 3) + 1
        if length < minimum:
            buffer.clear()
            raise DecodeError(MALFORMED, f"frame length {length} is too short")
        if len(buffer) < length:
            return None
        frame = bytes(buffer[:length])
        del buffer[:length]
        crc = crc16_feig(frame[:-2])
        if frame[-2:] != bytes([crc & 0xFF, crc >> 8]):
            buffer.clear()
            raise DecodeError(CRC, "frame CRC does not match")
        address, command = frame[head], frame[head + 1]
        if self.replies:
            return FeigFrame(command, frame[head + 3 : -2], frame[head + 2], address)
        return FeigFrame(command, frame[head + 2 : -2], None, address)


def decode_frame(data: bytes, *, replies: bool = True) -> FeigFrame:
    """Decode exactly one whole frame; raises DecodeError for anything else."""
    reader = FrameReader(replies=replies)
    reader.receive_data(data)
    frame = reader.next_frame()
    if frame is None:
        raise DecodeError(TRUNCATED, "incomplete frame")
    if reader.buffered:
        raise DecodeError(MALFORMED, "bytes after the frame")
    return frame


def _uid(uid: bytes) -> bytes:
    if len(uid) != UID_BYTES:
        raise EncodeError("an ISO 15693 UID has 8 bytes")
    return uid


# Requests (the host side).
def inventory(*, more: bool = False, address: int = ANY_ADDRESS) -> FeigFrame:
    mode = MODE_MORE if more else 0x00
    return FeigFrame(CMD_ISO, bytes([ISO_INVENTORY, mode]), address=address)


def read_blocks(uid: bytes, first: int, count: int, *, address: int = ANY_ADDRESS) -> FeigFrame:
    data = bytes([ISO_READ_BLOCKS, MODE_ADDRESSED]) + _uid(uid) + bytes([first, count])
    return FeigFrame(CMD_ISO, data, address=address)


def write_blocks(
    uid: bytes, first: int, block_size: int, data: bytes, *, address: int = ANY_ADDRESS
) -> FeigFrame:
    if block_size < 1 or len(data) % block_size or not data:
        raise EncodeError("write whole blocks")
    count = len(data) // block_size
    body = bytes([ISO_WRITE_BLOCKS, MODE_ADDRESSED]) + _uid(uid)
    return FeigFrame(CMD_ISO, body + bytes([first, count, block_size]) + data, address=address)


def write_afi(uid: bytes, afi: int, *, address: int = ANY_ADDRESS) -> FeigFrame:
    data = bytes([ISO_WRITE_AFI, MODE_ADDRESSED]) + _uid(uid) + bytes([afi])
    return FeigFrame(CMD_ISO, data, address=address)


def system_info(uid: bytes, *, address: int = ANY_ADDRESS) -> FeigFrame:
    return FeigFrame(CMD_ISO, bytes([ISO_SYSTEM_INFO, MODE_ADDRESSED]) + _uid(uid), address=address)


def set_eas(uid: bytes, armed: bool, *, address: int = ANY_ADDRESS) -> FeigFrame:
    """NXP ICODE SLIX EAS bit: set (armed, the alarm sounds at the gate) or reset."""
    command = NXP_SET_EAS if armed else NXP_RESET_EAS
    return FeigFrame(CMD_CUSTOM, bytes([command, NXP, MODE_ADDRESSED]) + _uid(uid), address=address)


def eas_alarm(uid: bytes, *, address: int = ANY_ADDRESS) -> FeigFrame:
    """Ask whether the tag's EAS bit is set: STATUS_OK when it is, NO_TRANSPONDER when not."""
    body = bytes([NXP_EAS_ALARM, NXP, MODE_ADDRESSED]) + _uid(uid)
    return FeigFrame(CMD_CUSTOM, body, address=address)


# Replies (decoded on the host side, built by the simulator).
@dataclass(frozen=True)
class InventoryTag:
    transponder_type: int
    dsfid: int
    uid: bytes


@dataclass(frozen=True)
class SystemInfo:
    dsfid: int
    uid: bytes
    afi: int
    block_size: int
    block_count: int
    ic_reference: int = 0


def _check_reply(frame: FeigFrame, command: int) -> None:
    if frame.status is None or frame.command != command:
        raise DecodeError(UNEXPECTED, f"reply to command {frame.command:#04x}")


def parse_inventory(frame: FeigFrame) -> tuple[InventoryTag, ...]:
    """The tags of an inventory reply (status OK, MORE_DATA or NO_TRANSPONDER)."""
    _check_reply(frame, CMD_ISO)
    if frame.status == STATUS_NO_TRANSPONDER:
        return ()
    if frame.status not in (STATUS_OK, STATUS_MORE_DATA) or not frame.data:
        raise DecodeError(UNEXPECTED, f"inventory status {frame.status:#04x}")
    count, records = frame.data[0], frame.data[1:]
    if len(records) != count * (2 + UID_BYTES):
        raise DecodeError(MALFORMED, f"{len(records)} bytes for {count} tags")
    return tuple(
        InventoryTag(records[at], records[at + 1], bytes(records[at + 2 : at + 2 + UID_BYTES]))
        for at in range(0, len(records), 2 + UID_BYTES)
    )


def inventory_reply(tags: tuple[InventoryTag, ...], *, more: bool = False) -> FeigFrame:
    if not tags:
        return FeigFrame(CMD_ISO, b"", STATUS_NO_TRANSPONDER)
    data = bytes([len(tags)]) + b"".join(
        bytes([tag.transponder_type, tag.dsfid]) + _uid(tag.uid) for tag in tags
    )
    return FeigFrame(CMD_ISO, data, STATUS_MORE_DATA if more else STATUS_OK)


def parse_blocks(frame: FeigFrame) -> tuple[bytes, ...]:
    """The blocks of a read-multiple-blocks reply (each without its security status byte)."""
    _check_reply(frame, CMD_ISO)
    if frame.status != STATUS_OK or len(frame.data) < 2:
        raise DecodeError(UNEXPECTED, f"read blocks status {frame.status:#04x}")
    count, size, rest = frame.data[0], frame.data[1], frame.data[2:]
    if size == 0 or len(rest) != count * (size + 1):
        raise DecodeError(MALFORMED, f"{len(rest)} bytes for {count} blocks of {size}")
    return tuple(bytes(rest[at + 1 : at + 1 + size]) for at in range(0, len(rest), size + 1))


def blocks_reply(blocks: tuple[bytes, ...]) -> FeigFrame:
    size = len(blocks[0]) if blocks else 4
    data = bytes([len(blocks), size]) + b"".join(b"\0" + block for block in blocks)
    return FeigFrame(CMD_ISO, data, STATUS_OK)


def parse_system_info(frame: FeigFrame) -> SystemInfo:
    _check_reply(frame, CMD_ISO)
    if frame.status != STATUS_OK or len(frame.data) != 1 + UID_BYTES + 4:
        raise DecodeError(UNEXPECTED, f"system info status {frame.status:#04x}")
    data = frame.data
    return SystemInfo(
        dsfid=data[0],
        uid=bytes(data[1:9]),
        afi=data[9],
        block_size=(data[10] & 0x1F) + 1,
        block_count=data[11] + 1,
        ic_reference=data[12],
    )


def system_info_reply(info: SystemInfo) -> FeigFrame:
    if not 1 <= info.block_size <= 32 or not 1 <= info.block_count <= 256:
        raise EncodeError("block size 1-32, block count 1-256")
    data = bytes([info.dsfid]) + _uid(info.uid)
    data += bytes([info.afi, info.block_size - 1, info.block_count - 1, info.ic_reference])
    return FeigFrame(CMD_ISO, data, STATUS_OK)


def status_reply(command: int, status: int) -> FeigFrame:
    """A reply with no data: the answer to writes, or an error."""
    return FeigFrame(command, b"", status)
