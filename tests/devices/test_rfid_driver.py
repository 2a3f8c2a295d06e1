"""The Feig and 3M drivers against the simulated readers on real ptys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import trio

from devices.drivers import (
    DeviceBack,
    DeviceEvent,
    DeviceLost,
    ReaderConfig,
    ReaderKind,
    RfidReader,
    SecurityScheme,
    SerialSpec,
    TagArrived,
    TagLeft,
    TagWriteFailed,
)
from devices.protocols.iso28560 import REVERSED_BLOCKS, TagData, encode_tag
from devices.sim.pty_port import SimPort
from devices.sim.run import reader_model, serve_reader
from devices.sim.tags import Pad, SimTag, uid_for
from tests.devices.conftest import FAST, next_event

ITEM = "33191000105864"
KINDS: tuple[ReaderKind, ...] = ("feig", "3m")


@dataclass
class Bench:
    reader: RfidReader
    pad: Pad
    port: SimPort
    events: trio.MemoryReceiveChannel[DeviceEvent]
    nursery: trio.Nursery


@asynccontextmanager
async def bench(
    port: SimPort, kind: ReaderKind, security: SecurityScheme | None = None
) -> AsyncIterator[Bench]:
    pad = Pad()
    config = ReaderConfig(
        "pad",
        kind,
        SerialSpec(
            port.path, 38400 if kind == "feig" else 19200, "even" if kind == "feig" else "none"
        ),
        security or SecurityScheme(),
        poll_interval_s=0.02,
        reply_timeout_s=0.2,
        backoff=FAST,
    )
    reader = RfidReader(config)
    send, receive = trio.open_memory_channel[DeviceEvent](100)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_reader, port, reader_model(kind, pad))
        await nursery.start(reader.run, send)
        yield Bench(reader, pad, port, receive, nursery)
        nursery.cancel_scope.cancel()


@pytest.mark.trio
@pytest.mark.parametrize("kind", KINDS)
async def test_a_two_part_item_arrives_part_by_part_and_leaves(
    sim_port: SimPort, kind: ReaderKind
) -> None:
    async with bench(sim_port, kind) as b:
        b.pad.run(f"place {ITEM} 1/2 afi=C2")
        first = await next_event(b.events, TagArrived)
        assert isinstance(first, TagArrived)
        assert first.item is not None
        assert (first.item.item_id, first.part_number, first.item.present) == (ITEM, 1, (1,))
        assert not first.item.complete
        assert first.item.missing == (2,)
        assert first.afi == 0xC2
        assert first.secured is False
        b.pad.run(f"place {ITEM} 2/2 afi=C2")
        second = await next_event(b.events, TagArrived)
        assert isinstance(second, TagArrived)
        assert second.item is not None
        assert second.item.complete
        assert second.uid == uid_for(ITEM, 2)
        assert [item.item_id for item in b.reader.pad()] == [ITEM]
        b.pad.run(f"lift {ITEM} 1")
        left = await next_event(b.events, TagLeft)
        assert isinstance(left, TagLeft)
        assert left.uid == uid_for(ITEM, 1)
        assert left.item is not None
        assert left.item.present == (2,)


@pytest.mark.trio
@pytest.mark.parametrize("kind", KINDS)
async def test_securing_an_item_writes_the_afi_of_every_part(
    sim_port: SimPort, kind: ReaderKind
) -> None:
    async with bench(sim_port, kind) as b:
        b.pad.run(f"place {ITEM} 1/2 afi=C2")
        b.pad.run(f"place {ITEM} 2/2 afi=C2")
        for _ in range(2):
            await next_event(b.events, TagArrived)
        assert await b.reader.secure_item(ITEM, True) == {1: None, 2: None}
        assert {tag.afi for tag in b.pad.tags.values()} == {0x07}
        await b.reader.secure(uid_for(ITEM, 2), False)
        assert b.pad.tags[uid_for(ITEM, 2)].afi == 0xC2


@pytest.mark.trio
@pytest.mark.parametrize("kind", KINDS)
async def test_a_failed_write_is_reported_and_changes_nothing(
    sim_port: SimPort, kind: ReaderKind
) -> None:
    async with bench(sim_port, kind) as b:
        b.pad.run(f"place {ITEM} afi=C2")
        await next_event(b.events, TagArrived)
        b.pad.run("fail-next-write")
        assert (await b.reader.secure_item(ITEM, True))[1] is not None
        assert b.pad.tags[uid_for(ITEM, 1)].afi == 0xC2
        assert await b.reader.secure_item(ITEM, True) == {1: None}  # only the next write failed


@pytest.mark.trio
async def test_feig_writes_eas_when_the_scheme_says_so(sim_port: SimPort) -> None:
    scheme = SecurityScheme(afi_secured=None, afi_unsecured=None, eas=True)
    async with bench(sim_port, "feig", scheme) as b:
        b.pad.run(f"place {ITEM} eas=off")
        arrived = await next_event(b.events, TagArrived)
        assert isinstance(arrived, TagArrived)
        assert arrived.secured is False
        await b.reader.secure(uid_for(ITEM, 1), True)
        tag = b.pad.tags[uid_for(ITEM, 1)]
        assert tag.eas
        assert tag.afi == 0x07  # untouched: the scheme has no AFI pair


@pytest.mark.trio
async def test_3m_cannot_set_eas_and_says_so(sim_port: SimPort) -> None:
    async with bench(sim_port, "3m", SecurityScheme(eas=True)) as b:
        b.pad.run(f"place {ITEM}")
        await next_event(b.events, TagArrived)
        with pytest.raises(TagWriteFailed, match="EAS"):
            await b.reader.secure(uid_for(ITEM, 1), True)


@pytest.mark.trio
@pytest.mark.parametrize("kind", KINDS)
async def test_blank_tags_and_patron_cards_carry_no_item(
    sim_port: SimPort, kind: ReaderKind
) -> None:
    async with bench(sim_port, kind) as b:
        b.pad.run("place-blank")
        blank = await next_event(b.events, TagArrived)
        assert isinstance(blank, TagArrived)
        assert blank.item is None
        assert blank.problem is not None
        assert "blank" in blank.problem
        card = encode_tag(TagData("21234000012345", usage=8))
        uid = bytes.fromhex("E004000000000099")
        b.pad.tags[uid] = SimTag(uid, bytearray(card + bytes(112 - len(card))), item_id="card")
        arrived = await next_event(b.events, TagArrived)
        assert isinstance(arrived, TagArrived)
        assert arrived.item is None
        assert arrived.usage == 8
        assert "21234000012345" not in repr(arrived)  # PRIV-16


@pytest.mark.trio
async def test_tags_in_reverse_block_order_are_read_with_a_correction(sim_port: SimPort) -> None:
    async with bench(sim_port, "feig") as b:
        data = encode_tag(TagData(ITEM))
        reversed_data = b"".join(data[at : at + 4][::-1] for at in range(0, len(data), 4))
        uid = uid_for(ITEM, 1)
        b.pad.tags[uid] = SimTag(uid, bytearray(reversed_data + bytes(80)), item_id=ITEM)
        arrived = await next_event(b.events, TagArrived)
        assert isinstance(arrived, TagArrived)
        assert arrived.item is not None
        assert arrived.item.item_id == ITEM
        assert arrived.corrections == (REVERSED_BLOCKS,)


@pytest.mark.trio
@pytest.mark.parametrize("kind", KINDS)
async def test_an_unplugged_reader_is_lost_and_its_tags_arrive_again(
    sim_port: SimPort, kind: ReaderKind
) -> None:
    async with bench(sim_port, kind) as b:
        b.pad.run(f"place {ITEM}")
        await next_event(b.events, TagArrived)
        await b.port.unplug()
        assert isinstance(await next_event(b.events, DeviceLost), DeviceLost)
        with pytest.raises(TagWriteFailed):
            await b.reader.secure(uid_for(ITEM, 1), True)
        b.port.plug()
        assert isinstance(await next_event(b.events, DeviceBack), DeviceBack)
        again = await next_event(b.events, TagArrived)
        assert isinstance(again, TagArrived)
        assert again.uid == uid_for(ITEM, 1)


@pytest.mark.trio
async def test_a_reader_that_stops_answering_is_lost(sim_port: SimPort) -> None:
    config = ReaderConfig(
        "mute",
        "feig",
        SerialSpec(sim_port.path),
        poll_interval_s=0.01,
        reply_timeout_s=0.05,
        backoff=FAST,
    )
    send, receive = trio.open_memory_channel[DeviceEvent](100)
    async with trio.open_nursery() as nursery:
        await nursery.start(RfidReader(config).run, send)  # nothing answers on the pty
        lost = await next_event(receive, DeviceLost)
        assert isinstance(lost, DeviceLost)
        assert "does not answer" in lost.reason
        nursery.cancel_scope.cancel()
