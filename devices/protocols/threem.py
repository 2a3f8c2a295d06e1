"""3M / Bibliotheca 210 and 810 reader protocol: frames, CRC and the library commands.

Frame: ``0xD6 | LEN-hi | LEN-lo | CMD | [UID] | fields | CRC-hi | CRC-lo``; LEN counts the
bytes after it (CRC included); the CRC (crc16_3m) covers LEN up to the last field. A reply
carries an error byte after CMD. The reader ignores a command while busy: wait for each reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from devices.protocols.crc import crc16_3m
from devices.protocols.errors import (
    CRC,
    MALFORMED,
    OVERSIZE,
    TRUNCATED,
    UNEXPECTED,
    DecodeError,
    EncodeError,
)

START: Final = 0xD6
# Replies list at most a few dozen tags or blocks; a 16-bit length beyond this is line noise.
MAX_FRAME: Final = 4096
UID_BYTES: Final = 8
BLOCK_BYTES: Final = 4

CMD_INVENTORY: Final = 0xFE
CMD_READ_BLOCKS: Final = 0x02
CMD_CHECK_EAS: Final = 0x03
CMD_WRITE_BLOCKS: Final = 0x04
CMD_WRITE_AFI: Final = 0x09
CMD_READ_AFI: Final = 0x0A
INVENTORY_FIELDS: Final = b"\x00\x05"

OK: Final = 0x00
ERROR_NO_TAG: Final = 0x06
ERROR_LOCKED: Final = 0x12
ERROR_WRITE_FAILED: Final = 0x16


@dataclass(frozen=True)
class ThreeMFrame:
    """One frame: a request (``error`` None) or a reply."""

    command: int
    data: bytes = b""
    error: int | None = None


def encode_frame(frame: ThreeMFrame) -> bytes:
    head = bytes([frame.command]) + (bytes([frame.error]) if frame.error is not None else b"")
    length = len(head) + len(frame.data) + 2
    if length > MAX_FRAME:
        raise EncodeError("frame longer than the reader accepts")
    body = bytes([length >> 8, length & 0xFF]) + head + frame.data
    crc = crc16_3m(body)
    return bytes([START]) + body + bytes([crc >> 8, crc & 0xFF])


class FrameReader:
    """Cuts frames out of a byte stream, sans I/O; ``replies`` says whether an error byte follows.

    Bytes before a 0xD6 are skipped. A frame with a bad CRC or length raises DecodeError and
    is dropped with everything received so far.
    """

    def __init__(self, *, replies: bool) -> None:
        self.replies = replies
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > MAX_FRAME + 3:
            self._buffer.clear()
            raise DecodeError(OVERSIZE, "more bytes than any frame")

    def next_frame(self) -> ThreeMFrame | None:
        buffer = self._buffer
        start = buffer.find(START)
        if start < 0:
            buffer.clear()
            return None
        del buffer[:start]
        if len(buffer) < 3:
            return None
        length = (buffer[1] << 8) | buffer[2]
        if not (4 if self.replies else 3) <= length <= MAX_FRAME:
            buffer.clear()
            raise DecodeError(MALFORMED, f"frame length {length}")
        if len(buffer) < 3 + length:
            return None
        frame = bytes(buffer[: 3 + length])
        del buffer[: 3 + length]
        crc = crc16_3m(frame[1:-2])
        if frame[-2:] != bytes([crc >> 8, crc & 0xFF]):
            buffer.clear()
            raise DecodeError(CRC, "frame CRC does not match")
        if self.replies:
            return ThreeMFrame(frame[3], frame[5:-2], frame[4])
        return ThreeMFrame(frame[3], frame[4:-2])


def decode_frame(data: bytes, *, replies: bool = True) -> ThreeMFrame:
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


# Requests.
def inventory() -> ThreeMFrame:
    return ThreeMFrame(CMD_INVENTORY, INVENTORY_FIELDS)


def read_blocks(uid: bytes, first: int, count: int) -> ThreeMFrame:
    return ThreeMFrame(CMD_READ_BLOCKS, _uid(uid) + bytes([first, count]))


def write_blocks(uid: bytes, first: int, data: bytes) -> ThreeMFrame:
    if not data or len(data) % BLOCK_BYTES:
        raise EncodeError("write whole 4-byte blocks")
    count = len(data) // BLOCK_BYTES
    return ThreeMFrame(CMD_WRITE_BLOCKS, _uid(uid) + bytes([first, count, 0]) + data)


def read_afi(uid: bytes) -> ThreeMFrame:
    return ThreeMFrame(CMD_READ_AFI, _uid(uid))


def write_afi(uid: bytes, afi: int) -> ThreeMFrame:
    return ThreeMFrame(CMD_WRITE_AFI, _uid(uid) + bytes([afi]))


def check_eas(uid: bytes) -> ThreeMFrame:
    return ThreeMFrame(CMD_CHECK_EAS, _uid(uid))


# Replies.
def _check_reply(frame: ThreeMFrame, command: int) -> None:
    if frame.error is None or frame.command != command:
        raise DecodeError(UNEXPECTED, f"reply to command {frame.command:#04x}")
    if frame.error != OK:
        raise DecodeError(UNEXPECTED, f"reader error {frame.error:#04x}")


def parse_inventory(frame: ThreeMFrame) -> tuple[bytes, ...]:
    """The UIDs of an inventory reply."""
    _check_reply(frame, CMD_INVENTORY)
    data = frame.data
    if len(data) < 3 or data[:2] != INVENTORY_FIELDS:
        raise DecodeError(MALFORMED, "inventory reply too short")
    count, uids = data[2], data[3:]
    if len(uids) != count * UID_BYTES:
        raise DecodeError(MALFORMED, f"{len(uids)} bytes for {count} tags")
    return tuple(bytes(uids[at : at + UID_BYTES]) for at in range(0, len(uids), UID_BYTES))


def inventory_reply(uids: tuple[bytes, ...]) -> ThreeMFrame:
    data = INVENTORY_FIELDS + bytes([len(uids)]) + b"".join(_uid(uid) for uid in uids)
    return ThreeMFrame(CMD_INVENTORY, data, OK)


def parse_blocks(frame: ThreeMFrame) -> tuple[bytes, tuple[tuple[int, bytes], ...]]:
    """The UID and (block number, 4 bytes) pairs of a read-blocks reply."""
    _check_reply(frame, CMD_READ_BLOCKS)
    data = frame.data
    if len(data) < UID_BYTES + 1:
        raise DecodeError(MALFORMED, "read blocks reply too short")
    uid, count, rest = bytes(data[:UID_BYTES]), data[UID_BYTES], data[UID_BYTES + 1 :]
    record = 2 + BLOCK_BYTES
    if len(rest) != count * record:
        raise DecodeError(MALFORMED, f"{len(rest)} bytes for {count} blocks")
    blocks = tuple(
        (rest[at] | rest[at + 1] << 8, bytes(rest[at + 2 : at + record]))
        for at in range(0, len(rest), record)
    )
    return uid, blocks


def blocks_reply(uid: bytes, first: int, blocks: tuple[bytes, ...]) -> ThreeMFrame:
    data = _uid(uid) + bytes([len(blocks)])
    for number, block in enumerate(blocks, start=first):
        if len(block) != BLOCK_BYTES:
            raise EncodeError("blocks of 4 bytes")
        data += bytes([number & 0xFF, number >> 8]) + block
    return ThreeMFrame(CMD_READ_BLOCKS, data, OK)


def parse_uid_reply(frame: ThreeMFrame, command: int) -> tuple[bytes, bytes]:
    """The UID a reply to a write or read-AFI or check-EAS names, and the bytes after it."""
    _check_reply(frame, command)
    if len(frame.data) < UID_BYTES:
        raise DecodeError(MALFORMED, "reply without a UID")
    return bytes(frame.data[:UID_BYTES]), bytes(frame.data[UID_BYTES:])


def uid_reply(command: int, uid: bytes, extra: bytes = b"") -> ThreeMFrame:
    return ThreeMFrame(command, _uid(uid) + extra, OK)


def error_reply(command: int, error: int) -> ThreeMFrame:
    return ThreeMFrame(command, b"", error)
