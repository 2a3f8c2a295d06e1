"""The SIP2 server and damaged input: retries, resends, checksums, garbage, oversize lines."""

from __future__ import annotations

import random

import pytest
import trio

from core.store.uow import Store
from sip2.client import Sip2Client, frame_raw
from sip2.codec import REQUEST_TYPES, ACSStatus, Login, checksum
from sip2.handlers import Sip2Handlers
from tests.sip2.conftest import (
    PASSWORD,
    STATUS,
    TERMINAL,
    checkout,
    encoded,
    loan_count,
    patron_info,
    start_server,
)

RESEND_96 = b"96AZFEF6"  # docs/sip2.md, "Framing"


@pytest.mark.trio
async def test_retried_checkout_is_replayed_not_run_twice(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        request = encoded(checkout(), sequence=3)
        first = await client.send_raw(request)
        assert first.startswith(b"121")  # ok
        again = await client.send_raw(request)  # the kiosk did not hear the answer: same AY+AZ
        assert again == first
        assert loan_count(store) == 1
        # 97: the last response again.
        assert await client.send_raw(b"97AZFEF5\r") == first
        assert loan_count(store) == 1


@pytest.mark.trio
async def test_97_before_any_answer_gets_96(nursery: trio.Nursery, handlers: Sip2Handlers) -> None:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.send_raw(b"97AZFEF5\r") == RESEND_96


@pytest.mark.trio
async def test_bad_checksum_gets_96_and_the_session_continues(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        assert await client.send_raw(b"9900302.00AY1AZ0000\r") == RESEND_96
        assert (await client.send_raw(frame_raw("9900302.00", sequence=2))).startswith(b"98")
        assert isinstance(await client.request(STATUS), ACSStatus)


def _garbage_lines(count: int, seed: int) -> list[bytes]:
    """Random lines without line breaks: pure noise, known codes with noise, noise with a valid
    trailer (so it reaches the parsers). No 93: three failed logins would close the session."""
    rng = random.Random(seed)
    codes = [t.COMMAND.encode() for t in REQUEST_TYPES if t is not Login] + [b"98", b"64", b"00"]
    noise_bytes = bytes(b for b in range(256) if b not in b"\r\n")

    def noise(low: int, high: int) -> bytes:
        return bytes(rng.choice(noise_bytes) for _ in range(rng.randint(low, high)))

    lines: list[bytes] = []
    while len(lines) < count:
        kind = rng.randrange(3)
        if kind == 0:
            line = noise(1, 120)
        else:
            line = rng.choice(codes) + noise(0, 120)
            if kind == 2:
                line += b"AY%dAZ" % rng.randrange(10)
                line += checksum(line).encode()
        if not line.startswith(b"93"):
            lines.append(line)
    return lines


@pytest.mark.trio
async def test_garbage_never_ends_the_server_and_other_sessions_keep_working(
    nursery: trio.Nursery, handlers: Sip2Handlers, sip2_log: pytest.LogCaptureFixture
) -> None:
    host, port = await start_server(nursery, handlers)
    rounds_by_neighbour = 0

    async def neighbour(done: trio.Event) -> None:
        nonlocal rounds_by_neighbour
        async with await Sip2Client.connect(host, port) as client:
            assert await client.login(TERMINAL, PASSWORD)
            while not done.is_set():
                assert isinstance(await client.request(STATUS), ACSStatus)
                await client.request(patron_info())
                rounds_by_neighbour += 1

    done = trio.Event()
    async with trio.open_nursery() as clients:
        clients.start_soon(neighbour, done)
        async with await Sip2Client.connect(host, port) as noisy:
            assert await noisy.login(TERMINAL, PASSWORD)
            for line in _garbage_lines(300, seed=20260304):
                answer = await noisy.send_raw(line + b"\r")
                assert answer[:2].isdigit()  # every line gets a well-formed answer
            assert isinstance(await noisy.request(STATUS), ACSStatus)
        done.set()
    assert rounds_by_neighbour > 0
    # Garbage is answered by the codec's errors and the handlers' refusals, not by accident.
    assert not [r for r in sip2_log.records if r.levelname == "ERROR"]


@pytest.mark.trio
async def test_oversize_line_is_refused_and_the_next_message_answered(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        flood = b"x" * 100_000
        assert await client.send_raw(flood + b"\r" + encoded(STATUS, 4)) == RESEND_96
        assert (await client.read_raw_line()).startswith(b"98")
        # An oversize line whose command can be read gets that command's refusal.
        refusal = await client.send_raw(b"11" + flood + b"\r")
        assert refusal.startswith(b"120")
        assert isinstance(await client.request(STATUS), ACSStatus)


@pytest.mark.trio
async def test_a_slow_client_does_not_hold_up_others(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    host, port = await start_server(nursery, handlers)
    request = encoded(STATUS, 5)
    async with (
        await Sip2Client.connect(host, port) as slow,
        await Sip2Client.connect(host, port) as quick,
    ):
        for byte in request[:-1]:
            await slow.stream.send_all(bytes([byte]))
        with trio.fail_after(2):
            assert isinstance(await quick.request(STATUS), ACSStatus)
        assert (await slow.send_raw(request[-1:])).startswith(b"98")
