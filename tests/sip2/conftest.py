"""SIP2 server fixtures: real handlers on the real store, a terminal account, servers on port 0."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence

import pytest
import trio
from sqlalchemy import func, select

from core.model import Item, Loan
from core.services.accounts import add_sip_account
from core.services.actors import local_admin
from core.store.uow import Store
from sip2.codec import (
    Checkin,
    Checkout,
    Connection,
    ItemInformation,
    Message,
    PatronInformation,
    SCStatus,
    TerminalSettings,
)
from sip2.handlers import HandlerContext, HandlerOptions, Sip2Handlers
from sip2.server import Listener, ServerLimits, serve_sip2
from tests.conftest import NOW, add_patron, add_record_with_items

TERMINAL = "kiosk1"
PASSWORD = "terminal-secret"
PATRON = "P0001234"
PIN = "4711"
ITEMS = ("I0000042", "I0000043")
LOCAL_NOW = dt.datetime(2026, 3, 4, 10, 0)  # NOW as library-local time (timezone UTC)
STATUS = SCStatus(max_print_width=40)
LOOPBACK = "127.0.0.1"


def add_terminal(store: Store, login: str = TERMINAL, password: str = PASSWORD) -> None:
    with store.write() as uow:
        add_sip_account(
            uow,
            local_admin(),
            NOW,
            login,
            store.env.hasher.hash(password),
            institution_id="main",
            location="main",
            profile="minimal",
        )


@pytest.fixture
def handlers(store: Store) -> Sip2Handlers:
    """Real handlers with a terminal account, one patron with a PIN and two items."""
    add_terminal(store)
    add_patron(store, PATRON, pin=PIN)
    add_record_with_items(store, "A Book About Privacy", list(ITEMS))
    return Sip2Handlers(HandlerContext(store, HandlerOptions()))


@pytest.fixture
def sip2_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="reticent.sip2")
    return caplog


async def start_server(
    nursery: trio.Nursery,
    handlers: Sip2Handlers,
    limits: ServerLimits | None = None,
    *,
    listeners: Sequence[Listener] | None = None,
    stop: trio.Event | None = None,
    clock: Callable[[], dt.datetime] = lambda: NOW,
) -> tuple[str, int]:
    """Start a server on 127.0.0.1 port 0 (unless ``listeners`` say otherwise); its address."""
    serve = functools.partial(
        serve_sip2,
        handlers,
        listeners if listeners is not None else [Listener(LOOPBACK, 0)],
        limits,
        clock=clock,
        stop=stop,
    )
    bound: list[tuple[str, int]] = await nursery.start(serve)
    return bound[0]


def checkout(item: str = ITEMS[0], *, pin: str | None = PIN) -> Checkout:
    return Checkout(
        sc_renewal_policy=False,
        no_block=False,
        transaction_date=LOCAL_NOW,
        institution_id="main",
        patron_id=PATRON,
        item_id=item,
        terminal_password="",
        patron_password=pin,
    )


def checkin(item: str = ITEMS[0]) -> Checkin:
    return Checkin(
        no_block=False,
        transaction_date=LOCAL_NOW,
        return_date=LOCAL_NOW,
        current_location="main",
        institution_id="main",
        item_id=item,
        terminal_password="",
    )


def patron_info(pin: str | None = PIN) -> PatronInformation:
    return PatronInformation(
        transaction_date=LOCAL_NOW, institution_id="main", patron_id=PATRON, patron_password=pin
    )


def item_info(item: str = ITEMS[0]) -> ItemInformation:
    return ItemInformation(transaction_date=LOCAL_NOW, institution_id="main", item_id=item)


def loan_count(store: Store) -> int:
    with store.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Loan)) or 0)


def item_status(store: Store, barcode: str = ITEMS[0]) -> str:
    with store.read() as uow:
        return str(uow.session.scalars(select(Item.status).where(Item.barcode == barcode)).one())


def encoded(message: Message, sequence: int = 1) -> bytes:
    """The bytes a kiosk with default settings sends for ``message`` with AY ``sequence``."""
    conn = Connection("sc", TerminalSettings())
    for _ in range(sequence):
        conn.send(STATUS)
    return conn.send(message)
