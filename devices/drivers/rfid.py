"""The RFID reader driver: an inventory loop that reports tags and items, and security writes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final, Literal

import trio

from devices.drivers.dialects import Dialect, FeigDialect, NoReply, TagWriteFailed, ThreeMDialect
from devices.drivers.events import DeviceEvent, PadItem, TagArrived, TagLeft
from devices.drivers.serial_port import PortError, SerialSpec, SerialTransport
from devices.drivers.supervise import Backoff, supervise_port
from devices.protocols.errors import DecodeError
from devices.protocols.iso28560 import Usage, decode_tag

log = logging.getLogger("reticent.devices")

ReaderKind = Literal["feig", "3m"]
# A reader that misses this many replies in a row is treated as unplugged and reopened.
MAX_SILENT_REPLIES: Final = 3
# Reading a new tag that fails this often is reported as unreadable instead of retried.
MAX_READ_ATTEMPTS: Final = 3


@dataclass(frozen=True)
class SecurityScheme:
    """How a tag says "in the library" (alarm at the gate) or "on loan", from configuration.

    AFI values differ between installations (docs/devices.md): the pair is configuration,
    either may be None to leave the AFI alone. ``eas`` also sets or resets the EAS bit.
    """

    afi_secured: int | None = 0x07
    afi_unsecured: int | None = 0xC2
    eas: bool = False

    def state(self, afi: int | None, eas: bool | None) -> bool | None:
        """True secured, False unsecured, None when the tag matches neither."""
        votes: list[bool] = []
        if afi is not None and afi in (self.afi_secured, self.afi_unsecured):
            votes.append(afi == self.afi_secured)
        if self.eas and eas is not None:
            votes.append(eas)
        if not votes or len(set(votes)) > 1:
            return None
        return votes[0]


@dataclass(frozen=True)
class ReaderConfig:
    """One RFID reader: protocol, port, security scheme and timing."""

    name: str
    kind: ReaderKind
    port: SerialSpec
    security: SecurityScheme = SecurityScheme()
    poll_interval_s: float = 0.25
    reply_timeout_s: float = 0.5
    blocks: int = 8  # 32 bytes: the whole ISO 28560-3 base layout
    misses_before_left: int = 2  # inventories a tag may be missing before TagLeft
    backoff: Backoff = field(default_factory=Backoff)


@dataclass
class _Tag:
    uid: bytes
    item_id: str | None
    parts_in_item: int
    part_number: int | None
    afi: int | None
    eas: bool | None
    misses: int = 0


@dataclass
class _Pending:
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


def dialect_for(config: ReaderConfig) -> Dialect:
    if config.kind == "feig":
        return FeigDialect(config.reply_timeout_s)
    return ThreeMDialect(config.reply_timeout_s)


class RfidReader:
    """Runs one reader until cancelled: ``await RfidReader(config).run(events)``.

    Emits TagArrived / TagLeft as tags come and go, with the item's parts on the pad;
    DeviceLost / DeviceBack as the port comes and goes (after DeviceLost every tag counts as
    gone; they arrive again after DeviceBack). ``secure`` and ``secure_item`` write the
    security state between inventories (the reader takes one command at a time).
    """

    def __init__(self, config: ReaderConfig, dialect: Dialect | None = None) -> None:
        self.config = config
        self.dialect = dialect if dialect is not None else dialect_for(config)
        self._lock = trio.Lock()
        self._port: SerialTransport | None = None
        self._tags: dict[bytes, _Tag] = {}
        self._pending: dict[bytes, _Pending] = {}

    def pad(self) -> tuple[PadItem, ...]:
        """The items on the pad now, by item id."""
        ids = sorted({tag.item_id for tag in self._tags.values() if tag.item_id is not None})
        return tuple(item for item_id in ids if (item := self._pad_item(item_id)) is not None)

    def _pad_item(self, item_id: str | None) -> PadItem | None:
        if item_id is None:
            return None
        tags = [tag for tag in self._tags.values() if tag.item_id == item_id]
        if not tags:
            return None
        parts = max(tag.parts_in_item for tag in tags)
        present = tuple(sorted({tag.part_number for tag in tags if tag.part_number is not None}))
        return PadItem(item_id, parts, present)

    async def run(
        self,
        events: trio.MemorySendChannel[DeviceEvent],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async def session(port: SerialTransport) -> None:
            self._tags.clear()
            self._pending.clear()
            self._port = port
            try:
                await self._poll(port, events)
            finally:
                self._port = None

        config = self.config
        await supervise_port(
            config.name, config.port, session, events, config.backoff, task_status=task_status
        )

    async def secure(self, uid: bytes, secured: bool) -> None:
        """Write the secured (True) or unsecured state to one tag; raises TagWriteFailed."""
        scheme = self.config.security
        async with self._lock:
            port = self._port
            if port is None:
                raise TagWriteFailed("the reader is not connected")
            try:
                afi = scheme.afi_secured if secured else scheme.afi_unsecured
                if afi is not None:
                    await self.dialect.write_afi(port, uid, afi)
                if scheme.eas:
                    await self.dialect.set_eas(port, uid, secured)
            except PortError as error:
                raise TagWriteFailed(str(error)) from None
        tag = self._tags.get(uid)
        if tag is not None:
            if afi is not None:
                tag.afi = afi
            if scheme.eas:
                tag.eas = secured

    async def secure_item(self, item_id: str, secured: bool) -> dict[int, str | None]:
        """Write the state to every part of ``item_id`` on the pad: part -> error or None."""
        results: dict[int, str | None] = {}
        for tag in [t for t in self._tags.values() if t.item_id == item_id]:
            part = tag.part_number or 1
            try:
                await self.secure(tag.uid, secured)
                results[part] = None
            except TagWriteFailed as error:
                results[part] = str(error)
        return results

    async def _poll(
        self, port: SerialTransport, events: trio.MemorySendChannel[DeviceEvent]
    ) -> None:
        silent = 0
        while True:
            try:
                async with self._lock:
                    uids = await self.dialect.inventory(port)
                    arrived = [await self._read(port, uid) for uid in uids if uid not in self._tags]
                silent = 0
            except NoReply as error:
                silent += 1
                if silent >= MAX_SILENT_REPLIES:
                    raise PortError(f"the reader does not answer ({error})") from None
                await trio.sleep(self.config.poll_interval_s)
                continue
            seen = set(uids)
            for uid in [uid for uid in self._tags if uid not in seen]:
                tag = self._tags[uid]
                tag.misses += 1
                if tag.misses >= self.config.misses_before_left:
                    del self._tags[uid]
                    item = self._pad_item(tag.item_id)
                    if item is None and tag.item_id is not None:  # its last part left
                        item = PadItem(tag.item_id, tag.parts_in_item, ())
                    await events.send(TagLeft(self.config.name, uid, item))
            for uid in seen & self._tags.keys():
                self._tags[uid].misses = 0
            for uid in [uid for uid in self._pending if uid not in seen]:
                del self._pending[uid]
            for event in arrived:
                if event is not None:
                    await events.send(event)
            await trio.sleep(self.config.poll_interval_s)

    async def _read(self, port: SerialTransport, uid: bytes) -> TagArrived | None:
        """Read a new tag; None to try again at the next inventory."""
        config = self.config
        pending = self._pending.setdefault(uid, _Pending())
        pending.attempts += 1
        eas: bool | None = None
        try:
            data, afi = await self.dialect.read_tag(port, uid, config.blocks)
            if config.security.eas:
                eas = await self.dialect.read_eas(port, uid)
        except NoReply as error:
            if pending.attempts < MAX_READ_ATTEMPTS:
                return None
            return self._add_unreadable(uid, str(error))
        del self._pending[uid]
        try:
            decoded = decode_tag(data)
        except DecodeError as error:
            return self._add_unreadable(uid, f"tag data not readable ({error.reason})", afi)
        tag_data = decoded.tag
        secured = config.security.state(afi, eas)
        if tag_data.usage == Usage.PATRON_CARD:  # PRIV-16: a card's id is not an item's
            self._tags[uid] = _Tag(uid, None, 1, None, afi, eas)
            return TagArrived(
                config.name,
                uid,
                None,
                None,
                tag_data.usage,
                afi,
                secured,
                decoded.corrections,
                "a patron card",
            )
        self._tags[uid] = _Tag(
            uid, tag_data.item_id, tag_data.parts_in_item, tag_data.part_number, afi, eas
        )
        return TagArrived(
            config.name,
            uid,
            self._pad_item(tag_data.item_id),
            tag_data.part_number,
            tag_data.usage,
            afi,
            secured,
            decoded.corrections,
        )

    def _add_unreadable(self, uid: bytes, problem: str, afi: int | None = None) -> TagArrived:
        self._pending.pop(uid, None)
        self._tags[uid] = _Tag(uid, None, 1, None, afi, None)
        return TagArrived(self.config.name, uid, None, None, None, afi, None, (), problem)
