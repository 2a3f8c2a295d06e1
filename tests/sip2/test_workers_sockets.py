"""Two servers sharing one port with SO_REUSEPORT, as worker processes do, over TLS."""

from __future__ import annotations

import datetime as dt
import functools
import socket
import ssl
from pathlib import Path

import pytest
import trio

from sip2.client import Sip2Client
from sip2.codec import ACSStatus
from sip2.handlers import Sip2Handlers
from sip2.server import Listener, reserve_port, serve_sip2
from tests.conftest import NOW
from tests.sip2.conftest import LOOPBACK, PASSWORD, STATUS, TERMINAL
from tests.sip2.test_server_lifecycle import _self_signed

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")

CONNECTIONS = 24  # the kernel spreads them by hash: all on one server has odds 2 in 2**24


def _fixed(moment: dt.datetime) -> dt.datetime:
    return moment


@pytest.mark.trio
async def test_two_servers_share_a_tls_port(handlers: Sip2Handlers, tmp_path: Path) -> None:
    cert_file, key_file, pem = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    held, port = reserve_port(LOOPBACK, 0)  # as the parent process does for port 0
    listener = Listener(LOOPBACK, port, ssl_context=server_context)
    # Each "worker" tells the time differently, so an answer shows which one gave it.
    clocks = {NOW: "first", NOW + dt.timedelta(hours=1): "second"}
    trusting = ssl.create_default_context(cadata=pem)
    answered_by: list[str] = []
    try:
        async with trio.open_nursery() as nursery:
            stop = trio.Event()
            for moment in clocks:
                serve = functools.partial(
                    serve_sip2,
                    handlers,
                    [listener],
                    clock=functools.partial(_fixed, moment),
                    stop=stop,
                    reuse_port=True,
                )
                bound = await nursery.start(serve)
                assert bound == [(LOOPBACK, port)]
            for _ in range(CONNECTIONS):
                async with await Sip2Client.connect(LOOPBACK, port, ssl_context=trusting) as client:
                    assert isinstance(client.stream, trio.SSLStream)
                    assert await client.login(TERMINAL, PASSWORD)
                    status = await client.request(STATUS)
                assert isinstance(status, ACSStatus) and status.date_time_sync is not None
                local = status.date_time_sync.replace(tzinfo=dt.UTC)  # the library zone is UTC
                answered_by.append(clocks[local])
            stop.set()
    finally:
        held.close()
    assert set(answered_by) == {"first", "second"}


@pytest.mark.trio
async def test_a_port_held_without_reuse_port_is_refused(handlers: Sip2Handlers) -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            reserve_port(LOOPBACK, port)
        with pytest.raises(OSError):
            await serve_sip2(handlers, [Listener(LOOPBACK, port)], reuse_port=True)
