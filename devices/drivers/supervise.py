"""Keep a device session running: reopen a lost port with backoff, report lost and back."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from devices.drivers.events import DeviceBack, DeviceEvent, DeviceLost
from devices.drivers.serial_port import PortError, SerialSpec, SerialTransport

log = logging.getLogger("reticent.devices")


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts to reopen a port: doubling from ``first_s`` up to ``max_s``."""

    first_s: float = 0.2
    max_s: float = 5.0


Session = Callable[[SerialTransport], Awaitable[None]]


async def supervise_port(
    name: str,
    spec: SerialSpec,
    session: Session,
    events: trio.MemorySendChannel[DeviceEvent],
    backoff: Backoff,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Open ``spec``, run ``session`` on it until the port fails, and start again, forever.

    A failure to open, or a session that ends with PortError, emits DeviceLost once; the
    next successful open emits DeviceBack. Any other exception from the session is a bug:
    it is logged with its traceback and treated like a lost port, so a device never takes
    the program down. ``task_status.started()`` is called after the first attempt.
    """
    lost = False
    delay = backoff.first_s
    started = False
    while True:
        try:
            transport = SerialTransport.open(spec)
        except PortError as error:
            if not lost:
                lost = True
                await _emit(events, DeviceLost(name, f"cannot open {spec.path}: {error}"))
            if not started:
                started = True
                task_status.started()
            await trio.sleep(delay)
            delay = min(delay * 2, backoff.max_s)
            continue
        if lost:
            lost = False
            await _emit(events, DeviceBack(name))
        if not started:
            started = True
            task_status.started()
        delay = backoff.first_s
        reason = "the session ended"
        try:
            await session(transport)
        except PortError as error:
            reason = str(error)
        except Exception as error:
            log.exception("device session failed", extra={"fields": {"device": name}})
            reason = f"internal error ({type(error).__name__})"
        finally:
            with trio.CancelScope(shield=True):
                await transport.aclose()
        lost = True
        await _emit(events, DeviceLost(name, reason))
        await trio.sleep(delay)


async def _emit(events: trio.MemorySendChannel[DeviceEvent], event: DeviceEvent) -> None:
    log.info(
        "device lost" if isinstance(event, DeviceLost) else "device back",
        extra={"fields": {"device": event.device}},
    )
    await events.send(event)
