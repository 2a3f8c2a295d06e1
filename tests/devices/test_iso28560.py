"""ISO 28560-3 tag data: the vector of docs/devices.md, the field variants, round trips."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import iso28560
from devices.protocols.errors import BLANK, CRC, TRUNCATED, DecodeError, EncodeError
from devices.protocols.iso28560 import (
    DecodedTag,
    ExtensionBlock,
    TagData,
    Usage,
    decode_tag,
    encode_tag,
    tag_crc,
)

VECTOR = bytes.fromhex(
    "11 01 01 31 31 32 32 33 33 34 34 00 00 00 00 00 00 00 00"
    " 51 3E 44 45 37 30 35 00 00 00 00 00 00"
)
VECTOR_TAG = TagData(item_id="11223344", owner="DE705")


def with_crc(data: bytes) -> bytes:
    crc = tag_crc(data)
    return data[:19] + bytes([crc & 0xFF, crc >> 8]) + data[21:]


def test_the_vector_decodes() -> None:
    assert tag_crc(VECTOR) == 0x3E51
    decoded = decode_tag(VECTOR)
    assert decoded == DecodedTag(VECTOR_TAG, ())
    assert decoded.tag.usage == Usage.CIRCULATING
    assert (decoded.tag.part_number, decoded.tag.parts_in_item) == (1, 1)


def test_the_vector_encodes() -> None:
    assert encode_tag(VECTOR_TAG) == VECTOR
    assert encode_tag(VECTOR_TAG, 32) == VECTOR


def test_a_two_part_item_with_a_long_owner_uses_the_extended_layout() -> None:
    tag = TagData(item_id="33191000105864", parts_in_item=2, part_number=2, owner="US-MaBoPL12")
    assert len(encode_tag(tag)) == 32
    longer = TagData(item_id="1", owner="DK-710100-ABC")  # 13 characters
    data = encode_tag(longer)
    assert len(data) == 36
    assert decode_tag(data).tag == longer


def test_extension_blocks_round_trip() -> None:
    tag = TagData(item_id="X1", extensions=(ExtensionBlock(0x0102, b"shelf 7"),))
    data = encode_tag(tag)
    assert data[34:38] == bytes(
        [11, 0x01, 0x02, 11 ^ 0x01 ^ 0x02 ^ 0x73 ^ 0x68 ^ 0x65 ^ 0x6C ^ 0x66 ^ 0x20 ^ 0x37]
    )
    assert decode_tag(data) == DecodedTag(tag, ())


def test_swapped_parts_are_corrected_and_reported() -> None:
    good = encode_tag(TagData(item_id="123", parts_in_item=3, part_number=1))
    swapped = with_crc(good[:1] + bytes([good[2], good[1]]) + good[3:])
    decoded = decode_tag(swapped)
    assert (decoded.tag.parts_in_item, decoded.tag.part_number) == (3, 1)
    assert decoded.corrections == (iso28560.SWAPPED_PARTS,)


def test_swapped_nibbles_are_corrected_and_reported() -> None:
    good = encode_tag(TagData(item_id="123", usage=Usage.NOT_FOR_CIRCULATION))
    assert good[0] == 0x12
    decoded = decode_tag(with_crc(b"\x21" + good[1:]))
    assert decoded.tag.usage == Usage.NOT_FOR_CIRCULATION
    assert decoded.corrections == (iso28560.SWAPPED_NIBBLES,)


def test_blocks_in_reverse_byte_order_are_corrected_and_reported() -> None:
    reversed_blocks = b"".join(VECTOR[at : at + 4][::-1] for at in range(0, 32, 4))
    decoded = decode_tag(reversed_blocks)
    assert decoded == DecodedTag(VECTOR_TAG, (iso28560.REVERSED_BLOCKS,))


def test_a_crc_stored_high_byte_first_is_reported() -> None:
    flipped = VECTOR[:19] + b"\x3e\x51" + VECTOR[21:]
    assert decode_tag(flipped).corrections == (iso28560.CRC_HIGH_FIRST,)


def test_a_bad_crc_is_an_error_unless_told_otherwise() -> None:
    damaged = VECTOR[:3] + b"9" + VECTOR[4:]
    with pytest.raises(DecodeError) as caught:
        decode_tag(damaged)
    assert caught.value.reason == CRC
    lenient = decode_tag(damaged, require_crc=False)
    assert lenient.tag.item_id == "91223344"
    assert lenient.corrections == (iso28560.CRC_IGNORED,)


def test_blank_and_short_tags() -> None:
    with pytest.raises(DecodeError) as caught:
        decode_tag(bytes(32))
    assert caught.value.reason == BLANK
    with pytest.raises(DecodeError) as caught:
        decode_tag(VECTOR[:31])
    assert caught.value.reason == TRUNCATED


@pytest.mark.parametrize(
    "tag",
    [
        TagData(item_id=""),
        TagData(item_id="x" * 17),
        TagData(item_id="é"),
        TagData(item_id="1", parts_in_item=1, part_number=2),
        TagData(item_id="1", usage=16),
        TagData(item_id="1", owner="x" * 14),
    ],
)
def test_encode_refuses_what_the_layout_cannot_hold(tag: TagData) -> None:
    with pytest.raises(EncodeError):
        encode_tag(tag)


def test_a_long_owner_does_not_fit_32_bytes() -> None:
    with pytest.raises(EncodeError):
        encode_tag(TagData(item_id="1", owner="x" * 12), 32)


PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@st.composite
def tags(draw: st.DrawFn) -> TagData:
    parts = draw(st.integers(1, 255))
    return TagData(
        item_id=draw(st.text(PRINTABLE, min_size=1, max_size=16).filter(lambda s: s[0] != " ")),
        parts_in_item=parts,
        part_number=draw(st.integers(1, parts)),
        usage=draw(st.integers(0, 15)),
        owner=draw(st.text(PRINTABLE, max_size=13)),
        extensions=tuple(
            draw(
                st.lists(
                    st.builds(ExtensionBlock, st.integers(0, 0xFFFF), st.binary(max_size=40)),
                    max_size=3,
                )
            )
        ),
    )


@given(tag=tags(), extra_blocks=st.integers(0, 4))
def test_tags_round_trip(tag: TagData, extra_blocks: int) -> None:
    natural = encode_tag(tag)
    assert len(natural) % 4 == 0
    assert decode_tag(natural) == DecodedTag(tag, ())
    padded = encode_tag(tag, len(natural) + 4 * extra_blocks)
    assert decode_tag(padded) == DecodedTag(tag, ())


@given(data=st.binary(min_size=0, max_size=200), require_crc=st.booleans())
def test_any_bytes_decode_or_raise_decode_error(data: bytes, require_crc: bool) -> None:
    try:
        decoded = decode_tag(data, require_crc=require_crc)
    except DecodeError:
        return
    assert 1 <= decoded.tag.part_number <= decoded.tag.parts_in_item


@given(tag=tags())
def test_damaged_tags_decode_or_raise_decode_error(tag: TagData) -> None:
    data = bytearray(encode_tag(tag))
    for at in range(0, len(data), 7):
        data[at] ^= 0x5A
        with contextlib.suppress(DecodeError):
            decode_tag(bytes(data), require_crc=False)
