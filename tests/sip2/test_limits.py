"""Deadlines and limits of the SIP2 server: pre-login caps, login limits, disabled terminals."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

import pytest
import trio
from sqlalchemy import select

from core.model import SipAccount
from core.security.secrets import Argon2Params, SecretHasher
from core.services.accounts import set_terminal_enabled
from core.services.actors import local_admin
from core.store.uow import Store
from sip2.client import Sip2Client, Sip2ClientError
from sip2.codec import (
    CheckoutResponse,
    EndPatronSession,
    PatronInformationResponse,
    Renew,
    RenewResponse,
)
from sip2.handlers import HandlerContext, HandlerOptions, LoginLimits, Sip2Handlers
from sip2.server import ServerLimits
from tests.conftest import NOW, add_patron
from tests.sip2.conftest import (
    ITEMS,
    LOCAL_NOW,
    PASSWORD,
    PATRON,
    PIN,
    STATUS,
    TERMINAL,
    add_terminal,
    checkout,
    encoded,
    patron_info,
    start_server,
)


async def _closed(client: Sip2Client, within_s: float) -> float:
    """Seconds until the server closes ``client``'s connection (fails after ``within_s``)."""
    started = trio.current_time()
    with trio.fail_after(within_s), pytest.raises(Sip2ClientError):
        while True:
            await client.read_raw_line()
    return trio.current_time() - started


async def _from(host: str, port: int, source: str) -> Sip2Client:
    return Sip2Client(await trio.open_tcp_stream(host, port, local_address=source))


@pytest.mark.trio
async def test_slow_clients_filling_the_prelogin_cap_never_keep_a_kiosk_out(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    limits = ServerLimits(max_prelogin=8, max_prelogin_per_address=4, message_timeout_s=5)
    host, port = await start_server(nursery, handlers, limits)
    slow: list[Sip2Client] = []
    for source in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        for _ in range(4):  # each address fills its share, together more than the cap
            client = await _from(host, port, source)
            await client.stream.send_all(b"9")  # the first byte of a login, then nothing
            slow.append(client)
    async with await Sip2Client.connect(host, port) as kiosk:
        assert await kiosk.login(TERMINAL, PASSWORD)
        lent = await kiosk.request(checkout())
        assert isinstance(lent, CheckoutResponse) and lent.ok
        # The oldest slow clients made room; the kiosk, logged in, keeps its slot.
        await _closed(slow[0], within_s=2)
        for _ in range(8):
            client = await _from(host, port, "127.0.0.5")
            await client.stream.send_all(b"9")
            slow.append(client)
        assert isinstance(await kiosk.request(patron_info()), PatronInformationResponse)
    for client in slow:
        await client.aclose()


@pytest.mark.trio
async def test_a_connection_must_log_in_and_send_whole_messages_in_time(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    limits = ServerLimits(login_timeout_s=0.5, message_timeout_s=0.3)
    host, port = await start_server(nursery, handlers, limits)
    async with await Sip2Client.connect(host, port) as lingering:
        assert (await lingering.send_raw(encoded(STATUS))).startswith(b"98")  # allowed, but
        assert await _closed(lingering, within_s=2) < 1.0  # it does not extend the deadline
    async with await Sip2Client.connect(host, port) as dribbling:
        assert await dribbling.login(TERMINAL, PASSWORD)
        started = trio.current_time()
        with contextlib.suppress(trio.BrokenResourceError):
            for byte in encoded(STATUS):  # one byte at a time, slower than the message deadline
                await dribbling.stream.send_all(bytes([byte]))
                await trio.sleep(0.1)
        await _closed(dribbling, within_s=2)
        assert trio.current_time() - started < 1.0  # well before the whole message was sent


@pytest.mark.trio
async def test_failed_logins_are_limited_per_address_and_per_account(
    nursery: trio.Nursery, store: Store
) -> None:
    add_terminal(store)
    limits = LoginLimits(per_account=3, per_address=4)
    handlers = Sip2Handlers(HandlerContext(store, HandlerOptions(login_limits=limits)))
    host, port = await start_server(nursery, handlers)
    async with await _from(host, port, "127.0.0.6") as kiosk:  # the terminal's own address
        assert await kiosk.login(TERMINAL, PASSWORD)
    for _ in range(4):  # one failure per connection, each on a new connection
        async with await _from(host, port, "127.0.0.7") as guesser:
            assert not await guesser.login("someone-else", "guess")
    async with await _from(host, port, "127.0.0.7") as guesser:
        assert not await guesser.login(TERMINAL, PASSWORD)  # the address is refused
    for source in ("127.0.0.8", "127.0.0.9", "127.0.0.10"):  # three addresses, one account
        async with await _from(host, port, source) as guesser:
            assert not await guesser.login(TERMINAL, "guess")
    async with await _from(host, port, "127.0.0.11") as elsewhere:
        assert not await elsewhere.login(TERMINAL, PASSWORD)  # the account, from a new address
    async with await _from(host, port, "127.0.0.6") as kiosk:
        assert await kiosk.login(TERMINAL, PASSWORD)  # not from where it always logs in


@pytest.mark.trio
async def test_a_disabled_terminal_is_closed_within_seconds_and_refused(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    host, port = await start_server(nursery, handlers, ServerLimits(terminal_check_s=0.2))
    async with await Sip2Client.connect(host, port) as kiosk:
        assert await kiosk.login(TERMINAL, PASSWORD)
        with store.write() as uow:
            set_terminal_enabled(uow, local_admin(), NOW, TERMINAL, enabled=False)
        assert await _closed(kiosk, within_s=3) < 2.0
    async with await Sip2Client.connect(host, port) as again:
        assert not await again.login(TERMINAL, PASSWORD)


@pytest.mark.trio
async def test_nothing_of_a_patron_is_replayed_after_the_session_or_the_idle_timeout(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    host, port = await start_server(nursery, handlers, ServerLimits(patron_idle_s=0.3))
    end = EndPatronSession(transaction_date=LOCAL_NOW, institution_id="main", patron_id=PATRON)
    resend = b"97AZFEF5\r"
    async with await Sip2Client.connect(host, port) as kiosk:
        assert await kiosk.login(TERMINAL, PASSWORD)
        await kiosk.request(patron_info())
        assert (await kiosk.send_raw(resend)).startswith(b"64")  # within the session: replayed
        await kiosk.request(end)
        assert (await kiosk.send_raw(resend)).startswith(b"96")  # after 35: nothing kept
        await kiosk.request(patron_info())
        await trio.sleep(0.5)
        assert (await kiosk.send_raw(resend)).startswith(b"96")  # after the idle timeout


@pytest.mark.trio
async def test_renewal_does_not_desensitize_and_a_refused_checkout_names_its_title(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    add_patron(store, "P-EXPIRED", expires_on=dt.date(2020, 1, 1), pin=PIN)
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as kiosk:
        assert await kiosk.login(TERMINAL, PASSWORD)
        assert (await kiosk.request(checkout())).ok  # type: ignore[attr-defined]
        renewed = await kiosk.request(
            Renew(
                third_party_allowed=False,
                no_block=False,
                transaction_date=LOCAL_NOW,
                institution_id="main",
                patron_id=PATRON,
                item_id=ITEMS[0],
                nb_due_date=None,
                patron_password=PIN,
            )
        )
        refused = await kiosk.request(
            dataclasses.replace(checkout(ITEMS[1]), patron_id="P-EXPIRED")
        )
        unknown = await kiosk.request(checkout("NO-SUCH-ITEM"))
    assert isinstance(renewed, RenewResponse) and renewed.ok and not renewed.desensitize
    assert isinstance(refused, CheckoutResponse) and not refused.ok
    assert refused.title == "A Book About Privacy"
    assert isinstance(unknown, CheckoutResponse) and unknown.title == ""


@pytest.mark.trio
async def test_a_terminal_hash_is_replaced_when_the_argon2_parameters_change(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    older = SecretHasher(Argon2Params(time_cost=2, memory_cost_kib=2048, parallelism=1))
    with store.write() as uow:
        account = uow.session.scalars(select(SipAccount).where(SipAccount.login == TERMINAL)).one()
        account.password_hash = older.hash(PASSWORD)
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as kiosk:
        assert await kiosk.login(TERMINAL, PASSWORD)
    with store.read() as uow:
        stored = uow.session.scalars(
            select(SipAccount.password_hash).where(SipAccount.login == TERMINAL)
        ).one()
    assert "m=2048,t=2" not in stored and store.env.hasher.verify(stored, PASSWORD).ok
    assert store.env.hasher.verify(stored, PASSWORD).new_hash is None  # current parameters
