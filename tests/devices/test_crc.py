"""The three CRC-16 variants against the vectors in docs/devices.md."""

from __future__ import annotations

from devices.protocols.crc import crc16_3m, crc16_ccitt_false, crc16_feig


def test_tag_data_crc_self_test() -> None:
    assert crc16_ccitt_false(b"RFID tag data model") == 0x1AEE


def test_feig_crc_of_the_inventory_frames() -> None:
    assert crc16_feig(bytes.fromhex("07 FF B0 01 00")) == 0x561C
    assert crc16_feig(bytes.fromhex("02 00 09 FF B0 01 00")) == 0x4318


def test_3m_crc_of_the_inventory_and_write_afi_frames() -> None:
    assert crc16_3m(bytes.fromhex("00 05 FE 00 05")) == 0xFA40
    assert crc16_3m(bytes.fromhex("00 0C 09 E0 07 00 00 01 23 45 67 07")) == 0x3F8A


def test_a_crc_of_nothing_is_its_initial_value() -> None:
    assert crc16_ccitt_false(b"") == 0xFFFF
    assert crc16_feig(b"") == 0xFFFF
    assert crc16_3m(b"") == 0x0000
