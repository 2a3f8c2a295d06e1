"""The station: device events in, SIP2 checkins or lookups out, one result line per scan."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

import trio

from core.policy.barcodes import barcode_refusal
from core.policy.rules import BarcodeRule
from devices.drivers import (
    Backoff,
    BarcodeScanned,
    DeviceBack,
    DeviceEvent,
    DeviceLost,
    PadItem,
    RfidReader,
    TagArrived,
    TagLeft,
)
from devices.protocols.iso28560 import Usage
from devices.station.feedback import Feedback
from devices.station.journal import Journal, JournalError, QueuedScan, QueueFull, Source
from devices.station.link import ServerAway, Sip2Link
from devices.station.outcome import UNKNOWN_BARCODE, checkin_outcome, item_outcome
from sip2.codec import Checkin, CheckinResponse, ItemInformation, Message, SCStatus

log = logging.getLogger("reticent.station")

Mode = Literal["checkin", "item-info"]
# A status request (99) after this much quiet keeps the connection from the server's idle
# timeout (10 minutes by default), so the next scan does not wait for a new login.
HEARTBEAT_S: Final = 60.0
LOOKUPS_WAITING: Final = 100  # item-info: scans waiting for an answer at most


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class StationConfig:
    """What the station does and how it treats barcodes."""

    mode: Mode
    institution: str
    location: str
    item_rule: BarcodeRule = field(default_factory=BarcodeRule)
    patron_rule: BarcodeRule | None = None  # None: no patron barcodes to recognise
    settle_s: float = 1.5
    retry: Backoff = field(default_factory=lambda: Backoff(first_s=0.5, max_s=10.0))


class Station:
    """Runs until cancelled: ``await station.run(events)`` with the drivers sending to it.

    Checkins go through the journal (written before sending, answered before leaving it),
    in order, with their own fixed transaction date; lookups are sent at once. Result lines
    go to ``out``: item barcode and outcome only, never a patron (PRIV-16).
    """

    def __init__(
        self,
        config: StationConfig,
        link: Sip2Link,
        *,
        journal: Journal | None,
        out: Callable[[str], None],
        feedback: Feedback,
        reader: RfidReader | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        if config.mode == "checkin" and journal is None:
            raise ValueError("a checkin station needs a journal")
        self.config = config
        self.link = link
        self.journal = journal
        self.out = out
        self.feedback = feedback
        self.reader = reader
        self.clock = clock
        self._wake = trio.Event()
        self._away = False
        self._pad: dict[str, PadItem] = {}
        self._handled: set[str] = set()  # checked in while on the pad: not again until lifted
        self._reported: set[str] = set()  # a missing part was reported
        self._settling: set[str] = set()
        self._lookups_send, self._lookups = trio.open_memory_channel[str](LOOKUPS_WAITING)

    async def run(
        self,
        events: trio.MemoryReceiveChannel[DeviceEvent],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._send_checkins if self.journal else self._send_lookups)
            task_status.started()
            async for event in events:
                await self.handle(event, nursery)

    async def handle(self, event: DeviceEvent, nursery: trio.Nursery) -> None:
        if isinstance(event, BarcodeScanned):
            await self.accept(event.data, "scanner")
        elif isinstance(event, TagArrived):
            await self._tag_arrived(event, nursery)
        elif isinstance(event, TagLeft):
            self._tag_left(event)
        elif isinstance(event, DeviceLost):
            log.warning(
                "device lost", extra={"fields": {"device": event.device, "reason": event.reason}}
            )
            await self.feedback.show(f"{event.device}: not connected", problem=True)
        elif isinstance(event, DeviceBack):
            log.info("device back", extra={"fields": {"device": event.device}})
            if self.reader is not None and event.device == self.reader.config.name:
                nursery.start_soon(self._forget_lifted)

    async def accept(self, value: str, source: Source, parts: int = 1) -> None:
        """A barcode or tag id: checked against the rules, then queued or looked up."""
        config = self.config
        patron = config.patron_rule
        if patron is not None and barcode_refusal(value, patron) is None:
            await self._say("a patron card was ignored", problem=True)  # PRIV-16: no number
            return
        if barcode_refusal(value, config.item_rule) is not None:
            await self._say("a scan that is not an item barcode was ignored", problem=True)
            return
        if self.journal is None:
            try:
                self._lookups_send.send_nowait(value)
            except trio.WouldBlock:
                await self._say(f"{value}: not looked up: too many waiting", problem=True)
            return
        try:
            self.journal.add(value, self.clock(), source, parts)
        except QueueFull:
            await self._say(f"{value}: not accepted: the queue is full", problem=True)
            return
        self._wake.set()

    async def _say(self, line: str, *, problem: bool) -> None:
        self.out(line)
        await self.feedback.show(line, problem=problem)

    # RFID: an item is checked in once all its parts are on the pad.
    async def _tag_arrived(self, event: TagArrived, nursery: trio.Nursery) -> None:
        item = event.item
        if item is None:
            if event.usage == Usage.PATRON_CARD:
                await self._say("a patron card on the pad was ignored", problem=True)
            else:
                await self._say(f"tag {event.uid.hex().upper()}: {event.problem}", problem=True)
            return
        self._pad[item.item_id] = item
        if item.item_id in self._handled:
            return
        if item.complete:
            self._handled.add(item.item_id)
            await self.accept(item.item_id, "rfid", item.parts_in_item)
        elif item.item_id not in self._settling:
            self._settling.add(item.item_id)
            nursery.start_soon(self._settle, item.item_id)

    async def _settle(self, item_id: str) -> None:
        await trio.sleep(self.config.settle_s)
        self._settling.discard(item_id)
        item = self._pad.get(item_id)
        if item is None or item.complete or item_id in self._handled | self._reported:
            return
        self._reported.add(item_id)
        missing = ", ".join(str(part) for part in item.missing)
        await self._say(
            f"{item_id}: missing part {missing} of {item.parts_in_item}; not checked in",
            problem=True,
        )

    def _tag_left(self, event: TagLeft) -> None:
        item = event.item
        if item is None:
            return
        if item.present:
            self._pad[item.item_id] = item
            return
        self._pad.pop(item.item_id, None)
        self._handled.discard(item.item_id)
        self._reported.discard(item.item_id)

    async def _forget_lifted(self) -> None:
        """After the reader was away, items it does not see again have left the pad."""
        self._pad.clear()
        await trio.sleep(self.config.settle_s + 1.0)
        for item_id in list(self._handled):
            if item_id not in self._pad:
                self._handled.discard(item_id)
        self._reported &= self._pad.keys()

    # The server.
    def _server_away(self, error: ServerAway) -> None:
        if not self._away:
            self._away = True
            waiting = len(self.journal.pending()) if self.journal else 0
            log.warning("server away", extra={"fields": {"reason": str(error), "waiting": waiting}})

    def _server_back(self) -> None:
        if self._away:
            self._away = False
            waiting = len(self.journal.pending()) if self.journal else 0
            log.info("server back", extra={"fields": {"waiting": waiting}})

    async def _idle(self, delay: float) -> float:
        """Wait for work; keep the connection open meanwhile. Returns the next retry delay."""
        retry = self.config.retry
        if not self.link.connected:
            try:
                await self.link.request(SCStatus(max_print_width=40))
                self._server_back()
            except ServerAway as error:
                self._server_away(error)
                with trio.move_on_after(delay):
                    await self._wake.wait()
                return min(delay * 2, retry.max_s)
        with trio.move_on_after(HEARTBEAT_S) as quiet:
            await self._wake.wait()
        if quiet.cancelled_caught:
            try:
                await self.link.request(SCStatus(max_print_width=40))
            except ServerAway as error:
                self._server_away(error)
        return retry.first_s

    async def _send_checkins(self) -> None:
        assert self.journal is not None
        retry = self.config.retry
        delay = retry.first_s
        while True:
            self._wake = trio.Event()
            pending = self.journal.pending()
            if not pending:
                delay = await self._idle(delay)
                continue
            scan = pending[0]
            try:
                answer = await self.link.send(self.link.frame(self._checkin(scan), scan.sequence))
            except ServerAway as error:
                self._server_away(error)
                await trio.sleep(delay)
                delay = min(delay * 2, retry.max_s)
                continue
            self._server_back()
            delay = retry.first_s
            await self._answered(scan, answer)

    def _checkin(self, scan: QueuedScan) -> Checkin:
        # The scan's own time, fixed when it was queued: a resend is recognised by terminal,
        # item and this date, and a return made while the server was away is dated right.
        return Checkin(
            no_block=False,
            transaction_date=scan.scanned_at,
            return_date=scan.scanned_at,
            current_location=self.config.location,
            institution_id=self.config.institution,
            item_id=scan.item_id,
            terminal_password="",
        )

    async def _answered(self, scan: QueuedScan, answer: Message) -> None:
        assert self.journal is not None
        result = checkin_outcome(answer)
        text, problem = result.text, result.problem
        if scan.source == "rfid" and isinstance(answer, CheckinResponse) and answer.ok:
            relock, failed = await self._relock(scan.item_id)
            text += f"; {relock}"
            problem = problem or failed
        try:
            self.journal.done(scan, text, forget=not result.known)
        except JournalError as error:
            log.error("queue not written", extra={"fields": {"reason": str(error)}})
            raise
        name = scan.item_id if scan.parts == 1 else f"{scan.item_id} ({scan.parts} parts)"
        await self._say(f"{name if result.known else UNKNOWN_BARCODE}: {text}", problem=problem)

    async def _relock(self, item_id: str) -> tuple[str, bool]:
        if self.reader is None:
            return "not relocked: no reader", True
        results = await self.reader.secure_item(item_id, True)
        if not results:
            return "not relocked: the item left the pad", True
        failed = sorted(part for part, error in results.items() if error is not None)
        if failed:
            parts = ", ".join(str(part) for part in failed)
            return f"relock failed for part {parts}", True
        return "relocked", False

    async def _send_lookups(self) -> None:
        async for item_id in self._lookups:
            request = ItemInformation(
                transaction_date=self.clock(),
                institution_id=self.config.institution,
                item_id=item_id,
                terminal_password="",
            )
            try:
                answer = await self.link.request(request)
            except ServerAway as error:
                self._server_away(error)
                await self._say(f"{item_id}: not looked up: the server is away", problem=True)
                continue
            self._server_back()
            result = item_outcome(answer)
            name = item_id if result.known else UNKNOWN_BARCODE
            await self._say(f"{name}: {result.text}", problem=result.problem)
