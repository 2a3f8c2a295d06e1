"""The three CRC-16 variants of library RFID: tag data, Feig frames and 3M frames."""

from __future__ import annotations

from typing import Final

_POLY_CCITT: Final = 0x1021
_POLY_CCITT_REFLECTED: Final = 0x8408


def _table_msb_first() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _POLY_CCITT) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


def _table_lsb_first() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY_CCITT_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_MSB_TABLE: Final = _table_msb_first()
_LSB_TABLE: Final = _table_lsb_first()


def crc16_ccitt_false(data: bytes, init: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no final xor (ISO 28560-3 tag data)."""
    crc = init
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _MSB_TABLE[(crc >> 8) ^ byte]
    return crc


def crc16_feig(data: bytes) -> int:
    """Feig ISO-host frames: reflected poly 0x8408, init 0xFFFF, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _LSB_TABLE[(crc ^ byte) & 0xFF]
    return crc


def crc16_3m(data: bytes) -> int:
    """3M/Bibliotheca 210/810 frames: poly 0x1021, init 0xFFFF, final xor 0xFFFF."""
    return crc16_ccitt_false(data) ^ 0xFFFF
