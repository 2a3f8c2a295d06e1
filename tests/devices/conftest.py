"""Driver fixtures: simulated devices on real pseudo-terminals, fast timings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest
import trio

from devices.drivers import Backoff, DeviceEvent
from devices.sim.pty_port import SimPort

FAST = Backoff(first_s=0.02, max_s=0.1)
EVENT_TIMEOUT_S = 5.0
E = TypeVar("E")


@pytest.fixture
async def sim_port(tmp_path: Path) -> AsyncIterator[SimPort]:
    port = SimPort(tmp_path / "device")
    port.plug()
    yield port
    await port.aclose()


async def next_event(receive: trio.MemoryReceiveChannel[DeviceEvent], kind: type[E]) -> E:
    """The next event of ``kind``, skipping others; fails after EVENT_TIMEOUT_S."""
    with trio.fail_after(EVENT_TIMEOUT_S):
        while True:
            event = await receive.receive()
            if isinstance(event, kind):
                return event


async def any_event(receive: trio.MemoryReceiveChannel[DeviceEvent]) -> DeviceEvent:
    """The next event, whatever it is; fails after EVENT_TIMEOUT_S."""
    with trio.fail_after(EVENT_TIMEOUT_S):
        return await receive.receive()
