"""What drivers report: frozen events, sent on one trio memory channel per consumer."""

from __future__ import annotations

from dataclasses import dataclass

from devices.protocols.barcode import Symbology


@dataclass(frozen=True)
class BarcodeScanned:
    """A scanner read one barcode (AIM id and Codabar letters already stripped).

    ``at`` is trio's clock (``trio.current_time()``) when the read's last byte arrived.
    """

    device: str
    data: str
    symbology: Symbology | None
    at: float


@dataclass(frozen=True)
class PadItem:
    """The parts of one item that are on a reader's pad now (ISO 28560 set information)."""

    item_id: str
    parts_in_item: int
    present: tuple[int, ...]  # part numbers, ascending

    @property
    def complete(self) -> bool:
        return len(self.present) == self.parts_in_item

    @property
    def missing(self) -> tuple[int, ...]:
        return tuple(part for part in range(1, self.parts_in_item + 1) if part not in self.present)


@dataclass(frozen=True)
class TagArrived:
    """A tag came into the reader's field and was read.

    ``item`` is None when the tag holds no readable library data (``problem`` says why) or
    is not an item (``usage`` 8 is a patron card: its id is never put in an event's item,
    PRIV-16). ``secured`` is what the AFI/EAS say under the configured scheme, None when
    they match neither state. ``corrections`` lists the tag-data variants that were fixed.
    """

    device: str
    uid: bytes
    item: PadItem | None
    part_number: int | None
    usage: int | None
    afi: int | None
    secured: bool | None
    corrections: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class TagLeft:
    """A tag left the field; ``item`` shows the parts of its item still on the pad (none when
    the last one left); None for a tag that carried no item."""

    device: str
    uid: bytes
    item: PadItem | None


@dataclass(frozen=True)
class DeviceLost:
    """The device's port vanished or stopped answering; the driver keeps trying to reopen it."""

    device: str
    reason: str


@dataclass(frozen=True)
class DeviceBack:
    """The port opened again after a DeviceLost."""

    device: str


DeviceEvent = BarcodeScanned | TagArrived | TagLeft | DeviceLost | DeviceBack
