"""The SIP2 server over real TCP with the real store: logins, kiosk sessions, errors, logs."""

from __future__ import annotations

import datetime as dt

import pytest
import trio

from core.store.uow import Store
from sip2.client import Sip2Client, Sip2ClientError
from sip2.codec import (
    ACSStatus,
    CheckinResponse,
    CheckoutResponse,
    ItemInformation,
    ItemInformationResponse,
    Login,
    LoginResponse,
    Message,
    PatronInformationResponse,
    TerminalSettings,
)
from sip2.handlers import HandlerContext, HandlerOptions, Lanes, Sip2Handlers, TerminalSession
from sip2.server import ServerLimits
from tests.sip2.conftest import (
    ITEMS,
    PASSWORD,
    PATRON,
    PIN,
    STATUS,
    TERMINAL,
    checkin,
    checkout,
    encoded,
    item_info,
    item_status,
    loan_count,
    patron_info,
    start_server,
)


@pytest.mark.trio
async def test_login_refused_then_accepted(nursery: trio.Nursery, handlers: Sip2Handlers) -> None:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, "wrong") is False
        assert await client.login("no-such-terminal", PASSWORD) is False
        assert await client.login(TERMINAL, PASSWORD) is True
        # A second login on the same connection hits the verified-login cache and still works.
        assert await client.login(TERMINAL, PASSWORD) is True


@pytest.mark.trio
async def test_connection_closed_after_max_failed_logins(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    host, port = await start_server(nursery, handlers, ServerLimits(max_failed_logins=3))
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, "wrong-1") is False
        assert await client.login(TERMINAL, "wrong-2") is False
        third = await client.request(Login(login_user_id=TERMINAL, login_password="wrong-3"))
        assert third == LoginResponse(ok=False)  # the 94 is sent before the connection closes
        with pytest.raises(Sip2ClientError):
            await client.request(STATUS)


@pytest.mark.trio
async def test_before_login_status_is_answered_and_checkout_refused(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        status = await client.request(STATUS)
        assert isinstance(status, ACSStatus)
        assert status.online_status is True
        refused = await client.request(checkout())
        assert isinstance(refused, CheckoutResponse)
        assert refused.ok is False
    assert loan_count(store) == 0


@pytest.mark.trio
async def test_kiosk_session_end_to_end(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)

        wrong = await client.request(patron_info(pin="0000"))
        assert isinstance(wrong, PatronInformationResponse)
        assert wrong.valid_patron_password is False
        assert wrong.personal_name == ""  # PRIV-16: no name without a valid PIN

        info = await client.request(patron_info())
        assert isinstance(info, PatronInformationResponse)
        assert info.valid_patron is True
        assert info.valid_patron_password is True

        lent = await client.request(checkout(pin=PIN))
        assert isinstance(lent, CheckoutResponse)
        assert lent.ok is True
        assert lent.desensitize is True
        assert lent.due_date is not None
        assert loan_count(store) == 1
        assert item_status(store) == "on_loan"

        item = await client.request(item_info())
        assert isinstance(item, ItemInformationResponse)
        assert item.circulation_status == "04"

        returned = await client.request(checkin())
        assert isinstance(returned, CheckinResponse)
        assert returned.ok is True
    assert loan_count(store) == 0
    assert item_status(store) != "on_loan"


@pytest.mark.trio
async def test_terminal_codec_applies_from_login(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    crlf = TerminalSettings(terminator="\r\n")
    limits = ServerLimits(terminal_codecs={TERMINAL: crlf})
    host, port = await start_server(nursery, handlers, limits)
    async with await Sip2Client.connect(host, port) as client:
        before = await client.send_raw(encoded(STATUS, 0))
        assert before.startswith(b"98")
        await client.stream.send_all(
            encoded(Login(login_user_id=TERMINAL, login_password=PASSWORD), 1)
        )
        answer = await client.stream.receive_some(4096)
        assert answer.startswith(b"941") and answer.endswith(b"\r\n")


class FailingItemHandlers(Sip2Handlers):
    """Real handlers whose item information has a bug that mentions the item it failed on."""

    async def respond(
        self, request: Message, session: TerminalSession, now: dt.datetime, lanes: Lanes
    ) -> Message:
        if isinstance(request, ItemInformation):
            raise RuntimeError(f"bug while looking at {request.item_id} for {PATRON}")
        return await super().respond(request, session, now, lanes)


@pytest.mark.trio
async def test_handler_bug_gets_a_negative_answer_and_the_session_goes_on(
    nursery: trio.Nursery,
    handlers: Sip2Handlers,
    sip2_log: pytest.LogCaptureFixture,
) -> None:
    failing = FailingItemHandlers(HandlerContext(handlers.ctx.store, HandlerOptions()))
    host, port = await start_server(nursery, failing)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        answer = await client.request(item_info())
        assert isinstance(answer, ItemInformationResponse)
        assert answer.item_id == ""
        assert answer.screen_messages
        assert isinstance(await client.request(STATUS), ACSStatus)
    failures = [r for r in sip2_log.records if r.getMessage() == "request failed"]
    assert len(failures) == 1
    logged = str(failures[0].__dict__.get("fields"))
    assert "RuntimeError" in logged
    assert ITEMS[0] not in logged and PATRON not in logged  # the message text is not logged


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{record.getMessage()} {record.__dict__.get('fields')} {record.exc_text or ''}"
        for record in caplog.records
    )


@pytest.mark.trio
async def test_logs_hold_no_pin_no_password_and_no_patron_or_item(
    nursery: trio.Nursery,
    handlers: Sip2Handlers,
    sip2_log: pytest.LogCaptureFixture,
) -> None:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, "not-the-password") is False
        assert await client.login(TERMINAL, PASSWORD)
        await client.request(patron_info())
        lent = await client.request(checkout(pin=PIN))
        assert isinstance(lent, CheckoutResponse) and lent.ok
        await client.request(checkin())
    with trio.fail_after(5):
        while "connection closed" not in _everything_logged(sip2_log):
            await trio.sleep(0.01)
    logged = _everything_logged(sip2_log)
    # PRIV-16 and PRIV-03: no secret, no patron barcode, no item id anywhere in the log.
    for secret in (PIN, PASSWORD, "not-the-password", PATRON, *ITEMS):
        assert secret not in logged
    commands = [r.__dict__["fields"]["command"] for r in sip2_log.records if r.msg == "request"]
    assert commands == ["93", "93", "63", "11", "09"]
    assert "login failed" in logged and "connection open" in logged
