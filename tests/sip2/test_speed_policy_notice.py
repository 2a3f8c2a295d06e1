"""PRIV-01 at the kiosk: a patron with a valid PIN is told, in one line, that the policy changed."""

from __future__ import annotations

import datetime as dt

import pytest
import trio

from core.privacy.policy import acknowledge_policy, publish_policy
from core.services.actors import local_admin
from core.store.uow import Store
from sip2.client import Sip2Client
from sip2.codec import PatronInformationResponse, PatronStatusRequest, PatronStatusResponse
from sip2.handlers import Sip2Handlers
from sip2.handlers.patron import POLICY_CHANGED
from tests.conftest import NOW
from tests.sip2.conftest import (
    LOCAL_NOW,
    PASSWORD,
    PATRON,
    PIN,
    TERMINAL,
    patron_info,
    start_server,
)

POLICY_TEXT = "We keep as little as we can, for as short a time as we can."


def publish(store: Store, version: str = "2026-1") -> None:
    with store.write() as uow:
        publish_policy(
            uow, local_admin(), NOW, POLICY_TEXT, version, NOW.date() - dt.timedelta(days=1)
        )


def patron_status(pin: str | None) -> PatronStatusRequest:
    return PatronStatusRequest(
        language="001",
        transaction_date=LOCAL_NOW,
        institution_id="main",
        patron_id=PATRON,
        terminal_password="",
        patron_password=pin or "",  # 23 always carries AD; empty means no PIN
    )


async def answers(
    nursery: trio.Nursery, handlers: Sip2Handlers, pin: str | None
) -> tuple[PatronInformationResponse, PatronStatusResponse]:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        info = await client.request(patron_info(pin))
        status = await client.request(patron_status(pin))
    assert isinstance(info, PatronInformationResponse)
    assert isinstance(status, PatronStatusResponse)
    return info, status


@pytest.mark.trio
async def test_a_newer_policy_is_announced_after_a_valid_pin(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    publish(store)
    info, status = await answers(nursery, handlers, PIN)
    assert info.valid_patron_password is True
    assert status.valid_patron_password is True
    # One short line, no policy text and no version (PRIV-01: details come from staff).
    assert info.screen_messages.count(POLICY_CHANGED) == 1
    assert status.screen_messages.count(POLICY_CHANGED) == 1
    for answer in (info, status):
        assert all(
            POLICY_TEXT not in text and "2026-1" not in text for text in answer.screen_messages
        )


@pytest.mark.trio
async def test_no_announcement_without_a_valid_pin(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    publish(store)
    for pin in (None, "0000"):
        info, status = await answers(nursery, handlers, pin)
        assert POLICY_CHANGED not in info.screen_messages
        assert POLICY_CHANGED not in status.screen_messages


@pytest.mark.trio
async def test_no_announcement_once_acknowledged_or_without_a_policy(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    info, status = await answers(nursery, handlers, PIN)  # nothing published yet
    assert POLICY_CHANGED not in info.screen_messages + status.screen_messages
    publish(store)
    with store.write() as uow:
        acknowledge_policy(uow, local_admin(), NOW, PATRON, "desk")
    info, status = await answers(nursery, handlers, PIN)
    assert info.valid_patron_password is True
    assert POLICY_CHANGED not in info.screen_messages + status.screen_messages
