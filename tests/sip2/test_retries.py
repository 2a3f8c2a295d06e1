"""A retried transaction is answered as the first time and changes nothing (docs/sip2.md).

Across a dropped connection, a 99, and a restart of the server on the same store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import pytest
import trio
from sqlalchemy import func, select

from core.model import CirculationCount, Loan, Sip2Replay
from core.policy.rules import CirculationRules
from core.services.replays import REPLAY_WINDOW
from core.store.open import StoreOptions, open_store
from core.store.uow import Store
from sip2.client import Sip2Client
from sip2.codec import Renew
from sip2.handlers import HandlerContext, HandlerOptions, Sip2Handlers
from sip2.server import Listener, serve_sip2
from tests.conftest import FAST_ARGON2, NOW
from tests.sip2.conftest import (
    ITEMS,
    LOCAL_NOW,
    LOOPBACK,
    PASSWORD,
    PATRON,
    PIN,
    STATUS,
    TERMINAL,
    checkin,
    checkout,
    encoded,
    start_server,
)


def _state(store: Store) -> tuple[int, int, int]:
    """Loans, renewals used and statistics counted: what a second application would change."""
    with store.read() as uow:
        loans = int(uow.session.scalar(select(func.count()).select_from(Loan)) or 0)
        renewals = int(uow.session.scalar(select(func.coalesce(func.sum(Loan.renewals), 0))) or 0)
        counted = int(
            uow.session.scalar(select(func.coalesce(func.sum(CirculationCount.count), 0))) or 0
        )
    return loans, renewals, counted


async def _once(host: str, port: int, data: bytes) -> bytes:
    """Log in on a new connection, send ``data``, return the answer, drop the connection."""
    async with await Sip2Client.connect(host, port) as kiosk:
        assert await kiosk.login(TERMINAL, PASSWORD)
        await kiosk.request(STATUS)
        return await kiosk.send_raw(data)


@pytest.mark.trio
async def test_a_retry_on_a_new_connection_is_answered_and_applied_once(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    host, port = await start_server(nursery, handlers)
    lend = encoded(checkout())
    first = await _once(host, port, lend)
    after_first = _state(store)
    again = await _once(host, port, lend)  # the kiosk never saw the first answer: it resends
    assert first.startswith(b"121") and again == first
    assert _state(store) == after_first  # not applied as a renewal, not counted twice
    assert after_first[0] == 1 and after_first[1] == 0
    retour = encoded(checkin())
    back = await _once(host, port, retour)
    assert back.startswith(b"101") and await _once(host, port, retour) == back
    assert _state(store)[0] == 0
    # The same checkout at another moment is a new transaction, applied again.
    later = dataclasses.replace(checkout(), transaction_date=LOCAL_NOW + dt.timedelta(minutes=1))
    assert (await _once(host, port, encoded(later))).startswith(b"121")
    assert _state(store)[0] == 1


@pytest.mark.trio
async def test_a_retry_after_a_restart_changes_nothing(
    handlers: Sip2Handlers, store: Store, store_options: StoreOptions
) -> None:
    renew = Renew(
        third_party_allowed=False,
        no_block=False,
        transaction_date=LOCAL_NOW,
        institution_id="main",
        patron_id=PATRON,
        item_id=ITEMS[0],
        nb_due_date=None,
        patron_password=PIN,
    )

    async def serving(target: Store, *requests: bytes) -> list[bytes]:
        options = HandlerOptions()
        answers = []
        async with trio.open_nursery() as nursery:
            stop = trio.Event()
            bound = await nursery.start(
                functools.partial(
                    serve_sip2,
                    Sip2Handlers(HandlerContext(target, options)),
                    [Listener(LOOPBACK, 0)],
                    clock=lambda: NOW,
                    stop=stop,
                )
            )
            host, port = bound[0]
            for data in requests:
                answers.append(await _once(host, port, data))
            stop.set()
        return answers

    lent, renewed = await serving(store, encoded(checkout()), encoded(renew))
    assert lent.startswith(b"121") and renewed.startswith(b"301")
    before = _state(store)
    store.close()  # the server process ends; a new one opens the same store
    reopened = open_store(store_options, CirculationRules(), FAST_ARGON2)
    try:
        again_lent, again_renewed = await serving(reopened, encoded(checkout()), encoded(renew))
        assert (again_lent, again_renewed) == (lent, renewed)
        assert _state(reopened) == before  # one loan, one renewal used, counted once each
        assert before[1] == 1
    finally:
        reopened.close()


@pytest.mark.trio
async def test_what_is_kept_names_no_patron_no_item_and_is_pruned(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    moments = [NOW]
    host, port = await start_server(nursery, handlers, clock=lambda: moments[0])
    answer = await _once(host, port, encoded(checkout()))
    assert answer.startswith(b"121")
    with store.read() as uow:
        (row,) = uow.session.scalars(select(Sip2Replay)).all()
        kept = f"{row.key} {row.answer}"
    for secret in (PATRON, ITEMS[0], "A Book About Privacy", PIN, TERMINAL):  # PRIV-03
        assert secret not in kept
    moments[0] = NOW + REPLAY_WINDOW + dt.timedelta(seconds=1)
    retour = await _once(host, port, encoded(checkin()))
    assert retour.startswith(b"101")
    with store.read() as uow:
        left = uow.session.scalars(select(Sip2Replay.created_at)).all()
    assert left == [moments[0]]  # the checkout's row is gone; only the checkin's is left
