"""The SIP2 server's life: limits, idle timeout, TLS, plaintext refusal, graceful shutdown."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
import ssl
import threading
import time
from pathlib import Path

import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.store.uow import Store, Transactions
from sip2.client import Sip2Client, Sip2ClientError
from sip2.codec import ACSStatus, Checkout, ItemInformation, Message
from sip2.handlers import HandlerContext, HandlerOptions, Sip2Handlers, TerminalSession
from sip2.handlers.dispatch import PinCheck
from sip2.server import Listener, ServerLimits, check_listeners, serve_sip2
from tests.conftest import NOW
from tests.sip2.conftest import (
    LOOPBACK,
    PASSWORD,
    STATUS,
    TERMINAL,
    add_terminal,
    checkout,
    encoded,
    item_info,
    item_status,
    loan_count,
    start_server,
)


async def _logged(caplog: pytest.LogCaptureFixture, message: str, count: int = 1) -> None:
    with trio.fail_after(5):
        while sum(r.getMessage() == message for r in caplog.records) < count:
            await trio.sleep(0.01)


@pytest.mark.trio
async def test_idle_connection_is_closed(
    nursery: trio.Nursery, handlers: Sip2Handlers, sip2_log: pytest.LogCaptureFixture
) -> None:
    host, port = await start_server(nursery, handlers, ServerLimits(idle_timeout_s=0.2))
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        started = trio.current_time()
        with pytest.raises(Sip2ClientError):
            await client.read_raw_line()
        assert 0.15 < trio.current_time() - started < 2
    await _logged(sip2_log, "connection closed")
    closed = next(r for r in sip2_log.records if r.getMessage() == "connection closed")
    assert closed.__dict__["fields"]["reason"] == "idle timeout"


@pytest.mark.trio
async def test_connections_over_the_cap_are_closed(
    nursery: trio.Nursery, handlers: Sip2Handlers, sip2_log: pytest.LogCaptureFixture
) -> None:
    host, port = await start_server(nursery, handlers, ServerLimits(max_sessions=1))
    async with await Sip2Client.connect(host, port) as first:
        assert await first.login(TERMINAL, PASSWORD)
        async with await Sip2Client.connect(host, port) as second:
            with pytest.raises(Sip2ClientError):
                await second.send_raw(encoded(STATUS))
        await _logged(sip2_log, "connection refused")
        assert isinstance(await first.request(STATUS), ACSStatus)
    await _logged(sip2_log, "connection closed")  # the refused one was never open
    async with await Sip2Client.connect(host, port) as third:
        assert await third.login(TERMINAL, PASSWORD)


def _self_signed(folder: Path) -> tuple[Path, Path, str]:
    """A certificate for 127.0.0.1 and localhost: (cert file, key file, PEM text)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reticent test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, pem.decode()


@pytest.mark.trio
async def test_tls_listener(nursery: trio.Nursery, handlers: Sip2Handlers, tmp_path: Path) -> None:
    cert_file, key_file, pem = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    listener = Listener(LOOPBACK, 0, ssl_context=server_context)
    host, port = await start_server(nursery, handlers, listeners=[listener])

    trusting = ssl.create_default_context(cadata=pem)
    async with await Sip2Client.connect(host, port, ssl_context=trusting) as client:
        assert isinstance(client.stream, trio.SSLStream)
        assert await client.login(TERMINAL, PASSWORD)
        assert isinstance(await client.request(STATUS), ACSStatus)

    # A client that does not trust the certificate never gets a session.
    with pytest.raises(trio.BrokenResourceError):
        await Sip2Client.connect(host, port, ssl_context=ssl.create_default_context())
    # Plain SIP2 sent to the TLS port gets no SIP2 answer, and the server goes on.
    received = b""
    with trio.fail_after(2), contextlib.suppress(trio.BrokenResourceError):
        async with await trio.open_tcp_stream(host, port) as plain:
            await plain.send_all(encoded(STATUS))
            while chunk := await plain.receive_some(4096):
                received += chunk
    assert not received.startswith(b"98")
    async with await Sip2Client.connect(host, port, ssl_context=trusting) as client:
        assert isinstance(await client.request(STATUS), ACSStatus)


def test_plaintext_listener_off_loopback_needs_allow_plaintext() -> None:
    with pytest.raises(ValueError, match=r"0\.0\.0\.0:6001 is plain TCP"):
        check_listeners([Listener("0.0.0.0", 6001)])
    with pytest.raises(ValueError, match="plain TCP"):
        check_listeners([Listener("", 6001)])  # every address
    with pytest.raises(ValueError, match="plain TCP"):
        check_listeners([Listener("sip2.example.org", 6001)])
    check_listeners([Listener("127.0.0.1", 6001), Listener("::1", 6001), Listener("localhost", 1)])
    check_listeners([Listener("0.0.0.0", 6001, allow_plaintext=True)])
    check_listeners([Listener("0.0.0.0", 6001, ssl_context=ssl.create_default_context())])


@pytest.mark.trio
async def test_plaintext_refused_at_start_and_warned_when_allowed(
    nursery: trio.Nursery, handlers: Sip2Handlers, sip2_log: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError, match="PRIV-08"):
        await serve_sip2(handlers, [Listener("0.0.0.0", 0)])
    stop = trio.Event()
    allowed = Listener("0.0.0.0", 0, allow_plaintext=True)
    await start_server(nursery, handlers, listeners=[allowed], stop=stop)
    warnings = [r for r in sip2_log.records if r.getMessage() == "plaintext listener"]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    stop.set()


class SlowHandlers(Sip2Handlers):
    """Real handlers that take ``delay`` seconds (in the database thread) for 17 and 11."""

    def __init__(self, ctx: HandlerContext, delay: float) -> None:
        super().__init__(ctx)
        self.delay = delay
        self.entered = threading.Event()

    def handle(
        self,
        tx: Transactions,
        request: Message,
        session: TerminalSession,
        now: dt.datetime,
        check: PinCheck | None,
    ) -> Message:
        if isinstance(request, ItemInformation | Checkout):
            self.entered.set()
            time.sleep(self.delay)
        return super().handle(tx, request, session, now, check)


async def _serve_until_done(
    nursery: trio.Nursery, handlers: Sip2Handlers, limits: ServerLimits, stop: trio.Event
) -> tuple[tuple[str, int], trio.Event]:
    finished = trio.Event()

    async def run(task_status: trio.TaskStatus[list[tuple[str, int]]]) -> None:
        serve = functools.partial(
            serve_sip2, handlers, [Listener(LOOPBACK, 0)], limits, clock=lambda: NOW, stop=stop
        )
        await serve(task_status=task_status)
        finished.set()

    bound: list[tuple[str, int]] = await nursery.start(run)
    return bound[0], finished


@pytest.mark.trio
async def test_stop_closes_idle_connections_and_returns_at_once(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    stop = trio.Event()
    (host, port), finished = await _serve_until_done(
        nursery, handlers, ServerLimits(shutdown_grace_s=5), stop
    )
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        stop.set()
        with trio.fail_after(1):
            await finished.wait()
        with pytest.raises(Sip2ClientError):
            await client.read_raw_line()
    with pytest.raises(OSError):
        await trio.open_tcp_stream(host, port)  # no longer listening


@pytest.mark.trio
async def test_stop_lets_a_running_request_answer(nursery: trio.Nursery, store: Store) -> None:
    add_terminal(store)
    slow = SlowHandlers(HandlerContext(store, HandlerOptions()), delay=0.3)
    stop = trio.Event()
    (host, port), finished = await _serve_until_done(
        nursery, slow, ServerLimits(shutdown_grace_s=5), stop
    )
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        await client.stream.send_all(encoded(item_info()))
        await trio.to_thread.run_sync(slow.entered.wait)
        stop.set()
        answer = await client.read_raw_line()
        assert answer.startswith(b"18")  # written before the connection closed
        with pytest.raises(Sip2ClientError):
            await client.read_raw_line()
    with trio.fail_after(2):
        await finished.wait()


@pytest.mark.trio
async def test_grace_over_cancels_but_never_abandons_a_transaction(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    store = handlers.ctx.store
    slow = SlowHandlers(HandlerContext(store, HandlerOptions()), delay=0.5)
    stop = trio.Event()
    (host, port), finished = await _serve_until_done(
        nursery, slow, ServerLimits(shutdown_grace_s=0.1), stop
    )
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        await client.stream.send_all(encoded(checkout()))
        await trio.to_thread.run_sync(slow.entered.wait)
        stopped_at = trio.current_time()
        stop.set()
        with trio.fail_after(3):
            await finished.wait()
        # The server waited for the checkout's transaction rather than leave it running.
        assert trio.current_time() - stopped_at > 0.3
        with pytest.raises(Sip2ClientError):
            await client.read_raw_line()  # cancelled after the grace: no answer written
    assert loan_count(store) == 1
    assert item_status(store) == "on_loan"


@pytest.mark.trio
async def test_client_gone_right_after_a_checkout_leaves_a_consistent_store(
    nursery: trio.Nursery, handlers: Sip2Handlers, sip2_log: pytest.LogCaptureFixture
) -> None:
    store = handlers.ctx.store
    host, port = await start_server(nursery, handlers)
    client = await Sip2Client.connect(host, port)
    assert await client.login(TERMINAL, PASSWORD)
    await client.stream.send_all(encoded(checkout()))
    await client.aclose()
    await _logged(sip2_log, "connection closed")
    loans = loan_count(store)
    assert loans in (0, 1)
    assert (item_status(store) == "on_loan") == (loans == 1)
