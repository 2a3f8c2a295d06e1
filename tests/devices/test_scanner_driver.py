"""The scanner driver on a real pty: reads become BarcodeScanned; unplug and replug recover."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import trio

from devices.drivers import (
    BarcodeScanned,
    DeviceBack,
    DeviceEvent,
    DeviceLost,
    Scanner,
    ScannerConfig,
    SerialSpec,
)
from devices.protocols.barcode import BarcodeFraming, Symbology, encode_read
from devices.sim.pty_port import SimPort
from tests.devices.conftest import FAST, any_event, next_event


def scanner_for(port: SimPort, framing: BarcodeFraming | None = None) -> Scanner:
    return Scanner(ScannerConfig("desk", SerialSpec(port.path), framing or BarcodeFraming(), FAST))


@pytest.mark.trio
async def test_reads_arrive_in_order_with_their_symbology(sim_port: SimPort) -> None:
    send, receive = trio.open_memory_channel[DeviceEvent](100)
    async with trio.open_nursery() as nursery:
        await nursery.start(scanner_for(sim_port).run, send)
        framing = BarcodeFraming(terminator="CRLF", stx_etx=True)
        barcodes = [f"3319100010{n:04d}" for n in range(20)]
        wire = b"".join(encode_read(code, framing, "]C0") for code in barcodes)
        for at in range(0, len(wire), 7):  # the line delivers in pieces
            await sim_port.send_all(wire[at : at + 7])
        got = [await next_event(receive, BarcodeScanned) for _ in barcodes]
        assert [event.data for event in got] == barcodes
        assert {event.symbology for event in got} == {Symbology.CODE128}
        assert {event.device for event in got} == {"desk"}
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_an_idle_gap_ends_reads_without_a_terminator(sim_port: SimPort) -> None:
    framing = BarcodeFraming(terminator="none", idle_gap_s=0.03)
    send, receive = trio.open_memory_channel[DeviceEvent](100)
    async with trio.open_nursery() as nursery:
        await nursery.start(scanner_for(sim_port, framing).run, send)
        await sim_port.send_all(b"A33191000105864B")
        event = await next_event(receive, BarcodeScanned)
        assert isinstance(event, BarcodeScanned)
        assert event.data == "33191000105864"
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_unreadable_reads_are_dropped_not_reported(sim_port: SimPort) -> None:
    send, receive = trio.open_memory_channel[DeviceEvent](100)
    scanner = scanner_for(sim_port)
    async with trio.open_nursery() as nursery:
        await nursery.start(scanner.run, send)
        await sim_port.send_all(b"12\x0734\r]C0\r3319\r")
        event = await next_event(receive, BarcodeScanned)
        assert isinstance(event, BarcodeScanned)
        assert event.data == "3319"
        assert scanner.rejected == 2
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_an_unplugged_scanner_is_lost_and_comes_back(sim_port: SimPort) -> None:
    send, receive = trio.open_memory_channel[DeviceEvent](100)
    async with trio.open_nursery() as nursery:
        await nursery.start(scanner_for(sim_port).run, send)
        await sim_port.send_all(b"1111\r")
        assert isinstance(await next_event(receive, BarcodeScanned), BarcodeScanned)
        await sim_port.unplug()
        lost = await any_event(receive)
        assert isinstance(lost, DeviceLost)
        assert lost.device == "desk"
        await trio.sleep(0.2)  # several attempts to reopen fail meanwhile: reported once
        sim_port.plug()
        assert isinstance(await any_event(receive), DeviceBack)
        await trio.sleep(0.05)  # the driver opened the port: what it sends now is read
        await sim_port.send_all(b"2222\r")
        event = await any_event(receive)
        assert isinstance(event, BarcodeScanned)
        assert event.data == "2222"
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_a_port_missing_at_start_is_lost_until_it_appears(tmp_path: Path) -> None:
    port = SimPort(tmp_path / "later")
    send, receive = trio.open_memory_channel[DeviceEvent](100)
    async with trio.open_nursery() as nursery:
        await nursery.start(scanner_for(port).run, send)
        lost = await any_event(receive)
        assert isinstance(lost, DeviceLost)
        assert "cannot open" in lost.reason
        port.plug()
        assert isinstance(await any_event(receive), DeviceBack)
        nursery.cancel_scope.cancel()
    await port.aclose()


@pytest.mark.asyncio
async def test_the_driver_runs_with_trio_as_a_guest_of_asyncio(tmp_path: Path) -> None:
    """How the Textual kiosk runs drivers: asyncio owns the thread, trio runs as its guest."""
    loop = asyncio.get_running_loop()
    scans: asyncio.Queue[str] = asyncio.Queue()
    done: asyncio.Future[object] = loop.create_future()
    cancel = trio.CancelScope()
    link = tmp_path / "scanner"

    async def trio_main() -> None:
        port = SimPort(link)
        port.plug()
        send, receive = trio.open_memory_channel[DeviceEvent](100)
        with cancel:
            async with trio.open_nursery() as nursery:
                await nursery.start(scanner_for(port).run, send)
                await port.send_all(b"33191000105864\r44\r")
                async for event in receive:
                    if isinstance(event, BarcodeScanned):
                        loop.call_soon_threadsafe(scans.put_nowait, event.data)
        await port.aclose()

    trio.lowlevel.start_guest_run(
        trio_main,
        run_sync_soon_threadsafe=loop.call_soon_threadsafe,
        done_callback=lambda outcome: loop.call_soon_threadsafe(done.set_result, outcome),
        host_uses_signal_set_wakeup_fd=True,
    )
    first = await asyncio.wait_for(scans.get(), 5)
    second = await asyncio.wait_for(scans.get(), 5)
    assert (first, second) == ("33191000105864", "44")
    await asyncio.sleep(0)  # the asyncio loop keeps running its own work meanwhile
    loop.call_soon_threadsafe(cancel.cancel)
    outcome = await asyncio.wait_for(done, 5)
    outcome.unwrap()  # type: ignore[attr-defined]
