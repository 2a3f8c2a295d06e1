"""Pure device protocols: barcode framing, RFID tag data and reader frames (no I/O, no clock).

Modules: ``barcode`` (scanner reads), ``iso28560`` (tag data), ``feig`` and ``threem`` (reader
frames and commands), ``crc``; every decoder raises only ``errors.DecodeError``.
"""

from devices.protocols.errors import DecodeError, DeviceProtocolError, EncodeError

__all__ = ["DecodeError", "DeviceProtocolError", "EncodeError"]
