"""The SIP2 client (resends, timeouts) against a scripted peer, and the shell on the real server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
import trio

from sip2.client import Sip2Client, frame_raw
from sip2.codec import (
    ACSStatus,
    Connection,
    RequestSCResend,
    TerminalSettings,
    encode_message,
)
from sip2.handlers import Sip2Handlers
from sip2.shell import describe, main_shell, parse_target, run_shell
from tests.sip2.conftest import ITEMS, LOCAL_NOW, PASSWORD, PATRON, PIN, STATUS, TERMINAL
from tests.sip2.conftest import start_server as start_real_server

PLAIN = TerminalSettings(error_detection="off")
ACS_STATUS = ACSStatus(
    online_status=True,
    checkin_ok=True,
    checkout_ok=True,
    acs_renewal_policy=True,
    status_update_ok=True,
    offline_ok=False,
    timeout_period=999,
    retries_allowed=3,
    date_time_sync=LOCAL_NOW,
    institution_id="main",
    library_name="Scripted",
    supported_messages=frozenset({"99"}),
)
GOOD_98 = Connection("acs", PLAIN).send(ACS_STATUS)
DAMAGED_98 = encode_message(ACS_STATUS, PLAIN) + b"AZ0000\r"
RESEND_96 = b"96AZFEF6\r"


async def scripted_acs(nursery: trio.Nursery, answers: list[bytes]) -> tuple[int, list[bytes]]:
    """A peer answering each line it receives with the next of ``answers``; the lines it got."""
    received: list[bytes] = []

    async def answer(stream: trio.SocketStream) -> None:
        pending, buffer = list(answers), b""
        async with stream:
            while chunk := await stream.receive_some(4096):
                buffer += chunk
                while b"\r" in buffer:
                    line, _, buffer = buffer.partition(b"\r")
                    received.append(line)
                    if pending:
                        await stream.send_all(pending.pop(0))

    listeners = await nursery.start(trio.serve_tcp, answer, 0)
    return listeners[0].socket.getsockname()[1], received


@pytest.mark.trio
async def test_96_makes_the_client_send_the_same_bytes_again(nursery: trio.Nursery) -> None:
    port, received = await scripted_acs(nursery, [RESEND_96, RESEND_96, GOOD_98])
    async with await Sip2Client.connect("127.0.0.1", port) as client:
        assert await client.request(STATUS) == ACS_STATUS
    assert len(received) == 3
    assert received[0] == received[1] == received[2]
    assert received[0].startswith(b"99") and b"AY0AZ" in received[0]


@pytest.mark.trio
async def test_resends_stop_after_three(nursery: trio.Nursery) -> None:
    port, received = await scripted_acs(nursery, [RESEND_96] * 5)
    async with await Sip2Client.connect("127.0.0.1", port) as client:
        assert isinstance(await client.request(STATUS), RequestSCResend)
    assert len(received) == 4  # the request and three resends


@pytest.mark.trio
async def test_damaged_answer_is_asked_for_again_with_97(nursery: trio.Nursery) -> None:
    port, received = await scripted_acs(nursery, [DAMAGED_98, GOOD_98])
    async with await Sip2Client.connect("127.0.0.1", port) as client:
        assert await client.request(STATUS) == ACS_STATUS
    assert received[1] == b"97AZFEF5"


@pytest.mark.trio
async def test_request_timeout(nursery: trio.Nursery) -> None:
    port, _ = await scripted_acs(nursery, [])
    async with await Sip2Client.connect("127.0.0.1", port, timeout_s=0.2) as client:
        with pytest.raises(trio.TooSlowError):
            await client.request(STATUS)


def test_frame_raw_matches_the_spec_vectors() -> None:
    assert frame_raw("96", sequence=None) == b"96AZFEF6\r"
    assert frame_raw("9300CNuser_id|COpassw0rd|", sequence=1) == (
        b"9300CNuser_id|COpassw0rd|AY1AZF594\r"
    )
    assert frame_raw("99", settings=TerminalSettings(error_detection="off", terminator="\n")) == (
        b"99\n"
    )


async def _typed(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


@pytest.mark.trio
async def test_shell_session(nursery: trio.Nursery, handlers: Sip2Handlers) -> None:
    host, port = await start_real_server(nursery, handlers)
    out: list[str] = []
    typed = _typed(
        "help",
        f"login {TERMINAL} {PASSWORD}",
        "status",
        f"patron-info {PATRON} {PIN}",
        f"checkout {PATRON} {ITEMS[0]} {PIN}",
        f"item-info {ITEMS[0]}",
        f"checkin {ITEMS[0]}",
        "raw 9900302.00",
        "frobnicate",
        "checkout only-one-word",
        "",
        "quit",
        "status",
    )
    code = await run_shell(host, port, typed, out.append, clock=lambda: LOCAL_NOW)
    assert code == 0
    text = "\n".join(out)
    assert "patron-info PATRON [PIN]" in text  # help
    assert "-- 94 LoginResponse\nok: yes" in text
    assert "valid_patron_password: yes" in text
    assert "-- 12 CheckoutResponse\nok: yes" in text
    assert "circulation_status: 04" in text
    assert "-- 10 CheckinResponse\nok: yes" in text
    assert "<< 98" in text  # the raw line as received, then parsed
    assert "unknown request 'frobnicate'" in text
    assert "usage: checkout PATRON ITEM [PIN]" in text
    assert text.count("-- 98 ACSStatus") == 2  # nothing after quit


@pytest.mark.trio
async def test_shell_reports_a_refused_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    out: list[str] = []
    assert await run_shell("127.0.0.1", free_port, _typed("status"), out.append) == 1
    assert out[0].startswith(f"cannot connect to 127.0.0.1:{free_port}")


def test_describe_shows_fields_that_are_set() -> None:
    lines = describe(ACS_STATUS)
    assert lines[0] == "-- 98 ACSStatus"
    assert "online_status: yes" in lines and "offline_ok: no" in lines
    assert "supported_messages: 99" in lines
    assert not any(line.startswith("terminal_location") for line in lines)  # None is not set


def test_parse_target() -> None:
    assert parse_target("127.0.0.1:6001") == ("127.0.0.1", 6001)
    assert parse_target("[::1]:6001") == ("::1", 6001)
    for bad in ("kiosk", ":6001", "host:", "host:70000", "host:x"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_target(bad)
    assert main_shell("no-port-here") == 2
