"""ISO 28560-3 library RFID tag data (the fixed "Danish model" layout): encode and decode.

Layout (docs/devices.md): byte 0 version (high nibble) | type of usage (low nibble); byte 1
parts in item; byte 2 part number; bytes 3-18 primary item id (ASCII, NUL padded); bytes
19-20 CRC, low byte first; bytes 21-33 owner library (ISIL; 21-31 on 32-byte tags);
extension blocks from byte 34, each ``[length][id hi][id lo][xor][payload]``, ended by 00.
Decoding is lenient about the variants found in the field and says what it corrected.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from devices.protocols.crc import crc16_ccitt_false
from devices.protocols.errors import (
    BLANK,
    CRC,
    MALFORMED,
    OVERSIZE,
    TRUNCATED,
    DecodeError,
    EncodeError,
)

VERSION: Final = 1
MIN_TAG_BYTES: Final = 32
EXTENDED_TAG_BYTES: Final = 34  # room for the whole 13-byte owner field
# ISO 15693 tags address at most 256 blocks of at most 32 bytes.
MAX_TAG_BYTES: Final = 8192
ITEM_ID_BYTES: Final = 16
BLOCK_BYTES: Final = 4  # the block size of the tags libraries use (ICODE SLIX, Tag-it)
_ITEM_ID: Final = slice(3, 19)
_CRC_AT: Final = 19
_OWNER_AT: Final = 21
_EXTENSIONS_AT: Final = 34
_EXTENSION_HEADER: Final = 4


class Usage(enum.IntEnum):
    """Type of usage (ISO 28560-1 element 5), the low nibble of byte 0; others are kept as ints."""

    ACQUISITION = 0
    CIRCULATING = 1
    NOT_FOR_CIRCULATION = 2
    DISCARDED = 7
    PATRON_CARD = 8
    EQUIPMENT = 9


# Corrections reported by decode_tag, one fixed text each.
SWAPPED_PARTS: Final = "parts in item and part number were swapped"
SWAPPED_NIBBLES: Final = "version and type of usage were swapped in byte 0"
REVERSED_BLOCKS: Final = "the bytes of each 4-byte block were in reverse order"
CRC_HIGH_FIRST: Final = "the CRC was stored high byte first"
CRC_IGNORED: Final = "the CRC does not match; the data is used as read"
ZERO_PARTS: Final = "a part count or number of 0 was read as 1"
OWNER_UNREADABLE: Final = "the owner library field is not text; it was ignored"
EXTENSIONS_UNREADABLE: Final = "the extension blocks end early or are damaged; the rest was ignored"


@dataclass(frozen=True)
class ExtensionBlock:
    """One extension block after byte 34: a 16-bit block id and its payload."""

    block_id: int
    payload: bytes


@dataclass(frozen=True)
class TagData:
    """The library data on one tag: which item, which part of it, whose."""

    item_id: str
    parts_in_item: int = 1
    part_number: int = 1
    usage: int = Usage.CIRCULATING
    owner: str = ""  # ISIL, e.g. "DE-705"; older tags: country code and library number
    version: int = VERSION
    extensions: tuple[ExtensionBlock, ...] = ()


@dataclass(frozen=True)
class DecodedTag:
    """A decoded tag and the variants that had to be corrected to read it."""

    tag: TagData
    corrections: tuple[str, ...] = ()


def _crc_input(data: bytes) -> bytes:
    owner = data[_OWNER_AT:_EXTENSIONS_AT]
    return data[:_CRC_AT] + owner + bytes(_EXTENSIONS_AT - _OWNER_AT - len(owner))


def tag_crc(data: bytes) -> int:
    """The CRC of the first 34 bytes of tag data (32-byte tags count two zero bytes)."""
    return crc16_ccitt_false(_crc_input(data))


def _printable(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _ascii(value: str, width: int, what: str) -> bytes:
    if not _printable(value):
        raise EncodeError(f"{what} must be printable ASCII")
    if len(value) > width:
        raise EncodeError(f"{what} holds at most {width} characters")
    return value.encode("ascii") + bytes(width - len(value))


def encode_tag(tag: TagData, size: int | None = None) -> bytes:
    """The bytes of ``tag``; ``size`` None is the smallest whole number of 4-byte blocks.

    Raises EncodeError for values the layout cannot hold.
    """
    if not tag.item_id:
        raise EncodeError("the item id must not be empty")
    if not 0 <= tag.usage <= 0xF or not 0 <= tag.version <= 0xF:
        raise EncodeError("version and type of usage are 4-bit values")
    if not 1 <= tag.part_number <= tag.parts_in_item <= 255:
        raise EncodeError("need 1 <= part number <= parts in item <= 255")
    extensions = b"".join(_encode_extension(block) for block in tag.extensions)
    owner_width = 11 if size == MIN_TAG_BYTES else 13
    if size is None:
        extended = tag.extensions or len(tag.owner) > 11
        needed = _EXTENSIONS_AT + len(extensions) + 1 if extended else MIN_TAG_BYTES
        size = -(-needed // BLOCK_BYTES) * BLOCK_BYTES
        owner_width = 13 if extended else 11
    body = (
        bytes([tag.version << 4 | tag.usage, tag.parts_in_item, tag.part_number])
        + _ascii(tag.item_id, ITEM_ID_BYTES, "the item id")
        + b"\0\0"
        + _ascii(tag.owner, owner_width, "the owner library")
    )
    if extensions:
        body += extensions + b"\0"
    if size > MAX_TAG_BYTES or len(body) > size:
        raise EncodeError(f"{len(body)} bytes of tag data do not fit in {size}")
    data = bytearray(body + bytes(size - len(body)))
    crc = tag_crc(bytes(data))
    data[_CRC_AT : _CRC_AT + 2] = bytes([crc & 0xFF, crc >> 8])
    return bytes(data)


def _encode_extension(block: ExtensionBlock) -> bytes:
    length = _EXTENSION_HEADER + len(block.payload)
    if not 0 <= block.block_id <= 0xFFFF or length > 255:
        raise EncodeError("an extension block has a 16-bit id and at most 251 payload bytes")
    head = bytes([length, block.block_id >> 8, block.block_id & 0xFF])
    check = 0
    for byte in head + block.payload:
        check ^= byte
    return head + bytes([check]) + block.payload


def _reverse_blocks(data: bytes) -> bytes:
    return b"".join(data[at : at + BLOCK_BYTES][::-1] for at in range(0, len(data), BLOCK_BYTES))


def _crc_order(data: bytes) -> str | None:
    """Which byte order ("low" or "high" first) the stored CRC matches in, else None."""
    crc = tag_crc(data)
    stored = data[_CRC_AT : _CRC_AT + 2]
    if stored == bytes([crc & 0xFF, crc >> 8]):
        return "low"
    if stored == bytes([crc >> 8, crc & 0xFF]):
        return "high"
    return None


def decode_tag(data: bytes, *, require_crc: bool = True) -> DecodedTag:
    """Read tag data leniently; raises only DecodeError, whatever the bytes.

    Corrected variants: parts and part number swapped, byte 0 nibbles swapped, each 4-byte
    block in reverse order (some readers), CRC high byte first, a part count of 0. With
    ``require_crc`` False a CRC mismatch is reported as a correction instead of an error.
    """
    if len(data) < MIN_TAG_BYTES:
        raise DecodeError(TRUNCATED, f"{len(data)} bytes, tag data needs {MIN_TAG_BYTES}")
    if len(data) > MAX_TAG_BYTES:
        raise DecodeError(OVERSIZE, f"more than {MAX_TAG_BYTES} bytes")
    if not any(data[:_CRC_AT]) or all(byte == 0xFF for byte in data[:_CRC_AT]):
        raise DecodeError(BLANK, "no library data on the tag")
    corrections: list[str] = []
    order = _crc_order(data)
    if order is None and len(data) % BLOCK_BYTES == 0:
        reversed_data = _reverse_blocks(data)
        reversed_order = _crc_order(reversed_data)
        if reversed_order is not None:
            data, order = reversed_data, reversed_order
            corrections.append(REVERSED_BLOCKS)
    if order == "high":
        corrections.append(CRC_HIGH_FIRST)
    elif order is None:
        if require_crc:
            raise DecodeError(CRC, "tag data CRC does not match")
        corrections.append(CRC_IGNORED)
    version, usage = data[0] >> 4, data[0] & 0xF
    if version != VERSION:
        if usage != VERSION:
            raise DecodeError(MALFORMED, f"unknown data model version {version}")
        version, usage = usage, version
        corrections.append(SWAPPED_NIBBLES)
    parts, part = data[1], data[2]
    if part > parts > 0:
        parts, part = part, parts
        corrections.append(SWAPPED_PARTS)
    if parts == 0 or part == 0:
        part = max(part, 1)
        parts = max(parts, part)
        corrections.append(ZERO_PARTS)
    raw_id = data[_ITEM_ID].split(b"\0", 1)[0]
    item_id = raw_id.decode("latin-1")
    if not item_id:
        raise DecodeError(BLANK, "the item id is empty")
    if not _printable(item_id):
        raise DecodeError(MALFORMED, "the item id is not printable ASCII")
    owner = data[_OWNER_AT:_EXTENSIONS_AT].split(b"\0", 1)[0].decode("latin-1")
    if not _printable(owner):
        owner = ""
        corrections.append(OWNER_UNREADABLE)
    extensions, complete = _decode_extensions(data[_EXTENSIONS_AT:])
    if not complete:
        corrections.append(EXTENSIONS_UNREADABLE)
    tag = TagData(
        item_id=item_id,
        parts_in_item=parts,
        part_number=part,
        usage=usage,
        owner=owner,
        version=version,
        extensions=extensions,
    )
    return DecodedTag(tag, tuple(corrections))


def _decode_extensions(area: bytes) -> tuple[tuple[ExtensionBlock, ...], bool]:
    """The extension blocks, and False when the area ends without the 00 or holds damage."""
    blocks: list[ExtensionBlock] = []
    at = 0
    while at < len(area):
        length = area[at]
        if length == 0:
            return tuple(blocks), True
        block = area[at : at + length]
        if length < _EXTENSION_HEADER or len(block) < length:
            return tuple(blocks), False
        check = 0
        for byte in block:
            check ^= byte
        if check != 0:
            return tuple(blocks), False
        blocks.append(ExtensionBlock((block[1] << 8) | block[2], bytes(block[_EXTENSION_HEADER:])))
        at += length
    # A tag of exactly 34 bytes (or one filled to the last byte) has no room for the 00.
    return tuple(blocks), True
