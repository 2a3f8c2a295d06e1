"""Offline "no block" checkouts over TCP: honoured only for logins configured offline."""

from __future__ import annotations

import datetime as dt

import pytest
import trio
from sqlalchemy import select

from core.model import Fee, Loan
from core.services import patrons
from core.services.actors import local_admin
from core.store.uow import Store
from sip2.client import Sip2Client
from sip2.codec import Checkout, CheckoutResponse
from sip2.handlers import HandlerContext, HandlerOptions, Sip2Handlers
from tests.conftest import NOW, add_patron, add_record_with_items
from tests.sip2.conftest import LOCAL_NOW, PASSWORD, PIN, TERMINAL, add_terminal, start_server

OFFLINE_LOGIN = "drop-offline"
RULE_DUE = dt.datetime(2026, 3, 25, 23, 59, 59)  # 21 days from NOW, library-local (UTC)


def no_block(patron: str, item: str) -> Checkout:
    return Checkout(
        sc_renewal_policy=False,
        no_block=True,
        transaction_date=LOCAL_NOW - dt.timedelta(hours=5),
        institution_id="main",
        patron_id=patron,
        item_id=item,
        terminal_password="",
        patron_password=PIN,
        nb_due_date=dt.datetime(2036, 1, 1, 12, 0),  # what the terminal told the patron
    )


@pytest.fixture
def handlers(store: Store) -> Sip2Handlers:
    add_terminal(store)
    add_terminal(store, OFFLINE_LOGIN)
    add_record_with_items(store, "A Book", ["B1", "B2", "B3"])
    add_patron(store, "OWES", pin=PIN)
    add_patron(store, "LOST", pin=PIN)
    with store.write() as uow:
        pid = patrons.require_patron(uow, "OWES")
        uow.session.add(
            Fee(patron_id=pid, kind="damage", amount=5000, balance=5000, created_at=NOW)
        )
        patrons.block_patron(uow, local_admin(), NOW, "LOST", reason="", card_lost=True)
    options = HandlerOptions(offline_terminals=frozenset({OFFLINE_LOGIN}))
    return Sip2Handlers(HandlerContext(store, options))


async def send(
    nursery: trio.Nursery, handlers: Sip2Handlers, login: str, request: Checkout
) -> CheckoutResponse:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(login, PASSWORD)
        answer = await client.request(request)
    assert isinstance(answer, CheckoutResponse)
    return answer


def loans(store: Store) -> list[dt.datetime]:
    with store.read() as uow:
        return list(uow.session.scalars(select(Loan.due_at)))


@pytest.mark.trio
async def test_no_block_from_an_online_terminal_is_checked_like_any_checkout(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    refused = await send(nursery, handlers, TERMINAL, no_block("OWES", "B1"))
    assert not refused.ok
    assert loans(store) == []


@pytest.mark.trio
async def test_no_block_from_an_offline_terminal_is_recorded_with_the_rule_due_date(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    recorded = await send(nursery, handlers, OFFLINE_LOGIN, no_block("OWES", "B1"))
    assert recorded.ok and recorded.due_date == RULE_DUE
    assert loans(store) == [RULE_DUE.replace(tzinfo=dt.UTC)]
    lost = await send(nursery, handlers, OFFLINE_LOGIN, no_block("LOST", "B2"))
    assert not lost.ok and "lost" in " ".join(lost.screen_messages)
    assert len(loans(store)) == 1
