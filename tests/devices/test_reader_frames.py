"""Feig ISO-host and 3M 210/810 frames: the vectors of docs/devices.md, commands, round trips."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import feig, threem
from devices.protocols.errors import CRC, DecodeError, EncodeError

UID = bytes.fromhex("E007000001234567")


def test_feig_inventory_standard_frame() -> None:
    assert feig.encode_frame(feig.inventory()) == bytes.fromhex("07 FF B0 01 00 1C 56")
    assert feig.decode_frame(bytes.fromhex("07 FF B0 01 00 1C 56"), replies=False) == (
        feig.inventory()
    )


def test_feig_inventory_advanced_frame_decodes() -> None:
    frame = feig.decode_frame(bytes.fromhex("02 00 09 FF B0 01 00 18 43"), replies=False)
    assert frame == feig.inventory()


def test_feig_long_frames_use_the_advanced_form() -> None:
    frame = feig.FeigFrame(feig.CMD_ISO, bytes(300), feig.STATUS_OK)
    wire = feig.encode_frame(frame)
    assert wire[:3] == bytes([0x02, len(wire) >> 8, len(wire) & 0xFF])
    assert feig.decode_frame(wire) == frame


def test_feig_bad_crc_is_a_decode_error() -> None:
    with pytest.raises(DecodeError) as caught:
        feig.decode_frame(bytes.fromhex("07 FF B0 01 00 1C 57"), replies=False)
    assert caught.value.reason == CRC


def test_feig_inventory_reply_round_trips() -> None:
    tags = (feig.InventoryTag(0x03, 0x00, UID), feig.InventoryTag(0x03, 0x01, bytes(range(8))))
    wire = feig.encode_frame(feig.inventory_reply(tags))
    assert wire[1:4] == bytes([0xFF, 0xB0, feig.STATUS_OK])
    assert feig.parse_inventory(feig.decode_frame(wire)) == tags
    empty = feig.decode_frame(feig.encode_frame(feig.inventory_reply(())))
    assert empty.status == feig.STATUS_NO_TRANSPONDER
    assert feig.parse_inventory(empty) == ()


def test_feig_commands_carry_the_uid_addressed() -> None:
    assert feig.read_blocks(UID, 0, 8).data == bytes([0x23, 0x01]) + UID + bytes([0, 8])
    assert feig.write_afi(UID, 0x07).data == bytes([0x27, 0x01]) + UID + b"\x07"
    written = feig.write_blocks(UID, 0, 4, bytes(8)).data
    assert written == bytes([0x24, 0x01]) + UID + bytes([0, 2, 4]) + bytes(8)
    assert feig.system_info(UID).data == bytes([0x2B, 0x01]) + UID
    assert feig.set_eas(UID, True).data == bytes([0xA2, 0x04, 0x01]) + UID
    assert feig.set_eas(UID, False).data == bytes([0xA3, 0x04, 0x01]) + UID
    assert feig.eas_alarm(UID).command == feig.CMD_CUSTOM


def test_feig_blocks_and_system_info_replies_round_trip() -> None:
    blocks = (b"\x11\x01\x01\x31", b"1223")
    assert feig.parse_blocks(feig.decode_frame(feig.encode_frame(feig.blocks_reply(blocks)))) == (
        blocks
    )
    info = feig.SystemInfo(dsfid=0, uid=UID, afi=0x07, block_size=4, block_count=28)
    frame = feig.decode_frame(feig.encode_frame(feig.system_info_reply(info)))
    assert feig.parse_system_info(frame) == info


def test_feig_a_write_error_is_its_status() -> None:
    frame = feig.decode_frame(
        feig.encode_frame(feig.status_reply(feig.CMD_ISO, feig.STATUS_WRITE_ERROR))
    )
    assert frame.status == feig.STATUS_WRITE_ERROR
    with pytest.raises(DecodeError):
        feig.parse_blocks(frame)


def test_3m_inventory_vector() -> None:
    assert threem.encode_frame(threem.inventory()) == bytes.fromhex("D6 00 05 FE 00 05 FA 40")
    assert threem.decode_frame(bytes.fromhex("D6 00 05 FE 00 05 FA 40"), replies=False) == (
        threem.inventory()
    )


def test_3m_write_afi_vector() -> None:
    wire = bytes.fromhex("D6 00 0C 09 E0 07 00 00 01 23 45 67 07 3F 8A")
    assert threem.encode_frame(threem.write_afi(UID, 0x07)) == wire
    assert threem.decode_frame(wire, replies=False) == threem.write_afi(UID, 0x07)


def test_3m_bad_crc_is_a_decode_error() -> None:
    with pytest.raises(DecodeError) as caught:
        threem.decode_frame(bytes.fromhex("D6 00 05 FE 00 05 FA 41"), replies=False)
    assert caught.value.reason == CRC


def test_3m_replies_round_trip() -> None:
    uids = (UID, bytes(range(8)))
    frame = threem.decode_frame(threem.encode_frame(threem.inventory_reply(uids)))
    assert threem.parse_inventory(frame) == uids
    blocks = (b"\x11\x01\x01\x31", b"1223")
    frame = threem.decode_frame(threem.encode_frame(threem.blocks_reply(UID, 0, blocks)))
    assert threem.parse_blocks(frame) == (UID, ((0, blocks[0]), (1, blocks[1])))
    frame = threem.decode_frame(
        threem.encode_frame(threem.uid_reply(threem.CMD_READ_AFI, UID, b"\xc2"))
    )
    assert threem.parse_uid_reply(frame, threem.CMD_READ_AFI) == (UID, b"\xc2")


def test_3m_errors_raise_when_parsed() -> None:
    frame = threem.decode_frame(
        threem.encode_frame(threem.error_reply(threem.CMD_WRITE_AFI, threem.ERROR_WRITE_FAILED))
    )
    assert frame.error == threem.ERROR_WRITE_FAILED
    with pytest.raises(DecodeError):
        threem.parse_uid_reply(frame, threem.CMD_WRITE_AFI)


def test_3m_skips_noise_before_a_frame() -> None:
    reader = threem.FrameReader(replies=False)
    reader.receive_data(b"\x00\x11" + threem.encode_frame(threem.inventory()))
    assert reader.next_frame() == threem.inventory()


@pytest.mark.parametrize("bad", [b"", bytes(7), bytes(9)])
def test_commands_refuse_a_uid_that_is_not_8_bytes(bad: bytes) -> None:
    with pytest.raises(EncodeError):
        feig.write_afi(bad, 7)
    with pytest.raises(EncodeError):
        threem.write_afi(bad, 7)


FEIG_FRAMES = st.builds(
    feig.FeigFrame,
    command=st.integers(0, 255),
    data=st.binary(max_size=400),
    status=st.none() | st.integers(0, 255),
    address=st.integers(0, 255),
)
THREEM_FRAMES = st.builds(
    threem.ThreeMFrame,
    command=st.integers(0, 255),
    data=st.binary(max_size=300),
    error=st.none() | st.integers(0, 255),
)


@given(frame=FEIG_FRAMES, chunk=st.integers(1, 50))
def test_feig_frames_round_trip_in_any_chunks(frame: feig.FeigFrame, chunk: int) -> None:
    wire = feig.encode_frame(frame)
    reader = feig.FrameReader(replies=frame.status is not None)
    found = []
    for at in range(0, len(wire), chunk):
        reader.receive_data(wire[at : at + chunk])
        while (got := reader.next_frame()) is not None:
            found.append(got)
    assert found == [frame]


@given(frame=THREEM_FRAMES, chunk=st.integers(1, 50))
def test_3m_frames_round_trip_in_any_chunks(frame: threem.ThreeMFrame, chunk: int) -> None:
    wire = threem.encode_frame(frame)
    reader = threem.FrameReader(replies=frame.error is not None)
    found = []
    for at in range(0, len(wire), chunk):
        reader.receive_data(wire[at : at + chunk])
        while (got := reader.next_frame()) is not None:
            found.append(got)
    assert found == [frame]


@given(wire=st.binary(max_size=600), replies=st.booleans())
def test_feig_any_bytes_decode_or_raise_decode_error(wire: bytes, replies: bool) -> None:
    reader = feig.FrameReader(replies=replies)
    try:
        reader.receive_data(wire)
        while (frame := reader.next_frame()) is not None:
            for parse in (feig.parse_inventory, feig.parse_blocks, feig.parse_system_info):
                with contextlib.suppress(DecodeError):
                    parse(frame)
    except DecodeError:
        pass


@given(wire=st.binary(max_size=600), replies=st.booleans())
def test_3m_any_bytes_decode_or_raise_decode_error(wire: bytes, replies: bool) -> None:
    reader = threem.FrameReader(replies=replies)
    try:
        reader.receive_data(wire)
        while (frame := reader.next_frame()) is not None:
            for parse in (threem.parse_inventory, threem.parse_blocks):
                with contextlib.suppress(DecodeError):
                    parse(frame)
            with contextlib.suppress(DecodeError):
                threem.parse_uid_reply(frame, frame.command)
    except DecodeError:
        pass


@given(uids=st.lists(st.binary(min_size=8, max_size=8), max_size=20))
def test_inventory_replies_round_trip(uids: list[bytes]) -> None:
    tags = tuple(feig.InventoryTag(3, 0, uid) for uid in uids)
    frame = feig.decode_frame(feig.encode_frame(feig.inventory_reply(tags)))
    assert feig.parse_inventory(frame) == tags
    frame3 = threem.decode_frame(threem.encode_frame(threem.inventory_reply(tuple(uids))))
    assert threem.parse_inventory(frame3) == tuple(uids)
