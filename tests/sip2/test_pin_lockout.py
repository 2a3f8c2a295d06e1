"""PIN lockout holds under concurrent guesses; a locked card costs what any card costs (PRIV-09)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import statistics
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
import trio

from core.policy.rules import CirculationRules
from core.security.secrets import Argon2Params
from core.store.open import StoreOptions, create_store
from core.store.uow import Store
from sip2.client import Sip2Client
from sip2.codec import PatronInformationResponse
from sip2.handlers import HandlerContext, HandlerOptions, Sip2Handlers
from tests.conftest import NOW, add_patron
from tests.sip2.conftest import PASSWORD, PIN, TERMINAL, add_terminal, patron_info, start_server

GUESSES = 100


@asynccontextmanager
async def _kiosks(
    nursery: trio.Nursery, host: str, port: int, count: int
) -> AsyncIterator[list[Sip2Client]]:
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(count):  # one after the other: within the pre-login limits
            client = await stack.enter_async_context(await Sip2Client.connect(host, port))
            assert await client.login(TERMINAL, PASSWORD)
            clients.append(client)
        yield clients


@pytest.mark.trio
async def test_concurrent_guesses_reach_the_hash_at_most_max_attempts_times(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    lockout = store.env.rules.pin_lockout
    moments = [NOW]
    host, port = await start_server(nursery, handlers, clock=lambda: moments[0])
    hasher = store.env.hasher
    answers: list[PatronInformationResponse] = []

    async def guess(client: Sip2Client, pin: str) -> None:
        answer = await client.request(patron_info(pin=pin))
        assert isinstance(answer, PatronInformationResponse)
        answers.append(answer)

    async with _kiosks(nursery, host, port, GUESSES) as clients:
        checked_before = hasher.verified
        async with trio.open_nursery() as guesses:  # one wrong guess on each connection at once
            for number, client in enumerate(clients[:-1]):
                guesses.start_soon(guess, client, f"{number:04d}")  # never PIN
        assert hasher.verified - checked_before == lockout.max_attempts
        assert not any(answer.valid_patron_password for answer in answers)
        # The right PIN now, while the card is locked: refused like a wrong one, no real hash.
        await guess(clients[-1], PIN)
        assert answers[-1].valid_patron_password is False
        assert hasher.verified - checked_before == lockout.max_attempts
        moments[0] = NOW + dt.timedelta(minutes=lockout.lock_minutes, seconds=1)
        await guess(clients[-1], PIN)  # the lock is over
        assert answers[-1].valid_patron_password is True


def _costly_store(tmp_path: Path) -> Store:
    # Costly enough that the hash, not the disk, sets the time of a check, as in production
    # (where argon2 takes about 0.1 s); cheap enough to take many samples.
    params = Argon2Params(time_cost=2, memory_cost_kib=16384, parallelism=1)
    options = StoreOptions(database=tmp_path / "timing.db", key_file=tmp_path / "timing.key")
    return create_store(options, CirculationRules(), params, now=NOW)


@pytest.mark.trio
async def test_unknown_known_and_locked_cards_take_the_same_time(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    store = _costly_store(tmp_path)
    try:
        add_terminal(store)
        samples = 15
        per_card = store.env.rules.pin_lockout.max_attempts - 1  # never locks a "known" card
        known = [f"P-KNOWN-{n}" for n in range(-(-samples // per_card))]
        for barcode in [*known, "P-LOCKED"]:
            add_patron(store, barcode, pin=PIN)
        handlers = Sip2Handlers(HandlerContext(store, HandlerOptions()))
        host, port = await start_server(nursery, handlers)
        async with await Sip2Client.connect(host, port) as client:
            assert await client.login(TERMINAL, PASSWORD)

            async def wrong_pin(barcode: str) -> float:
                request = dataclasses.replace(patron_info(pin="0000"), patron_id=barcode)
                started = trio.current_time()
                answer = await client.request(request)
                assert isinstance(answer, PatronInformationResponse)
                assert not answer.valid_patron_password
                return trio.current_time() - started

            for _ in range(store.env.rules.pin_lockout.max_attempts):
                await wrong_pin("P-LOCKED")
            await wrong_pin("P-WARM-UP")  # the dummy hash is made at its first use
            times: dict[str, list[float]] = {"unknown": [], "known": [], "locked": []}
            order = random.Random(7)
            for sample in range(samples):
                kinds = list(times)
                order.shuffle(kinds)  # interleaved, so a busy moment hits every kind alike
                for kind in kinds:
                    barcode = {
                        "unknown": f"P-NOBODY-{sample}",
                        "known": known[sample // per_card],
                        "locked": "P-LOCKED",
                    }[kind]
                    times[kind].append(await wrong_pin(barcode))
        medians = {kind: statistics.median(values) for kind, values in times.items()}
        fastest, slowest = min(medians.values()), max(medians.values())
        assert slowest < fastest * 1.2, medians
    finally:
        store.close()


@pytest.mark.trio
async def test_an_unknown_terminal_login_costs_one_argon2_check(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    host, port = await start_server(nursery, handlers)
    hasher = store.env.hasher
    async with await Sip2Client.connect(host, port) as client:
        dummies = hasher.dummies
        assert not await client.login("no-such-terminal", PASSWORD)
        assert hasher.dummies == dummies + 1
