"""Readiness, watchdog pings and the key as a credential, from a real `reticent serve`."""

from __future__ import annotations

import io
import os
import shutil
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.cli import main
from config.cli._context import Context
from config.sd_notify import Notifier
from config.settings import load_settings
from tests.config.cli_support import run
from tests.ops.support import make_instance, serve

WATCHDOG_USEC = 200_000  # pings every 0.1 s


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """The datagram socket systemd would listen on, bound where the test says."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(20)
    yield sock, str(path)
    sock.close()


def receive(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def credentials_folder(tmp_path: Path, key_file: Path) -> Path:
    """What systemd's LoadCredential= makes: a private folder with the key, mode 0400."""
    folder = tmp_path / "credentials"
    folder.mkdir(mode=0o500)
    shutil.move(key_file, folder / "reticent.key")
    (folder / "reticent.key").chmod(0o400)
    return folder


def test_ready_once_listening_then_watchdog_pings_then_stopping(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, address = notify_socket
    config = make_instance(tmp_path)
    key_file = load_settings(config, {}).key_path
    credentials = credentials_folder(tmp_path, key_file)
    assert not key_file.exists()  # the store can only be opened with the credential
    env = {
        "NOTIFY_SOCKET": address,
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "CREDENTIALS_DIRECTORY": str(credentials),
    }
    served = serve(config, tmp_path, "--no-daily-jobs", env=env)
    try:
        port = load_settings(config, {}).sip2.listeners[0].port
        ready = receive(sock)
        assert ready[0] == "READY=1"
        assert ready[1] == f"STATUS=SIP2 on 127.0.0.1:{port}"
        # READY comes only once the port accepts connections.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        pings = [receive(sock) for _ in range(3)]
        assert pings == [["WATCHDOG=1"]] * 3
    finally:
        code = served.stop()
    assert code == 0, served.log_text()
    messages = []
    sock.settimeout(2)
    while True:  # pings sent before the stop signal arrived, then STOPPING
        messages.append(receive(sock))
        if messages[-1][0] != "WATCHDOG=1":
            break
    assert messages[-1] == ["STOPPING=1", "STATUS=stopping"]
    assert not key_file.exists()  # the credential was read in place, never copied


def test_the_watchdog_pings_at_half_the_period(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, address = notify_socket
    config = make_instance(tmp_path)
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    served = serve(config, tmp_path, "--no-daily-jobs", env=env)
    try:
        assert receive(sock)[0] == "READY=1"
        assert receive(sock) == ["WATCHDOG=1"]
        started = time.monotonic()
        for _ in range(2):
            assert receive(sock) == ["WATCHDOG=1"]
        elapsed = time.monotonic() - started
    finally:
        served.stop()
    assert 0.8 <= elapsed <= 5  # two intervals of 0.5 s, with room for a busy machine


def test_worker_processes_say_ready_once_and_each_pings(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, address = notify_socket
    config = make_instance(tmp_path)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # who sent each datagram
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    served = serve(config, tmp_path, "--no-daily-jobs", "--sip2-workers", "2", env=env)
    senders: dict[str, set[int]] = {}
    try:
        deadline = time.monotonic() + 20
        while len(senders.get("WATCHDOG=1", ())) < 2 and time.monotonic() < deadline:
            data, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
            pid = next(
                int.from_bytes(payload[:4], "little")
                for level, kind, payload in ancillary
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS
            )
            senders.setdefault(data.decode().split("\n")[0], set()).add(pid)
    finally:
        assert served.stop() == 0
    assert len(senders["READY=1"]) == 1  # worker 0 speaks for the shared ports
    workers = senders["WATCHDOG=1"]
    assert len(workers) == 2 and served.process.pid not in workers  # each worker's own loop


def test_no_notification_socket_means_no_notifier() -> None:
    assert Notifier.from_environ({}, os.getpid()) is None
    assert Notifier.from_environ({"NOTIFY_SOCKET": "vsock:2:1"}, os.getpid()) is None


def test_abstract_socket_address_and_a_watchdog_meant_for_another_process() -> None:
    environ = {"NOTIFY_SOCKET": "@reticent-test", "WATCHDOG_USEC": "30000000"}
    notifier = Notifier.from_environ(environ, os.getpid())
    assert notifier is not None
    assert notifier.address == "\0reticent-test"
    assert notifier.watchdog_s == 15.0
    other = Notifier.from_environ({**environ, "WATCHDOG_PID": str(os.getpid() + 1)}, os.getpid())
    assert other is not None and other.watchdog_s is None


def test_abstract_socket_receives_the_datagram() -> None:
    name = f"reticent-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        notifier = Notifier.from_environ({"NOTIFY_SOCKET": "@" + name}, os.getpid())
        assert notifier is not None and notifier.ready("serving")
        assert sock.recv(100) == b"READY=1\nSTATUS=serving"


def test_a_missing_socket_is_reported_not_raised(tmp_path: Path) -> None:
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(tmp_path / "gone")}, os.getpid())
    assert notifier is not None
    assert notifier.ping() is False


def test_the_key_credential_replaces_the_key_file(tmp_path: Path) -> None:
    config = make_instance(tmp_path)
    key_file = load_settings(config, {}).key_path
    credentials = credentials_folder(tmp_path, key_file)
    environ = {"CREDENTIALS_DIRECTORY": str(credentials)}
    assert load_settings(config, environ).key_path == credentials / "reticent.key"
    assert stat.S_IMODE((credentials / "reticent.key").stat().st_mode) == 0o400
    code, _, err = run(config, "patron", "show", "PZQ0001")
    assert code == 2 and "does not exist" in err  # no credential: no key
    out = io.StringIO()
    ctx = Context(config_path=config, environ=environ, stdout=out, stderr=io.StringIO())
    assert main(["item", "show", "IQX4401"], ctx=ctx) == 0
    assert "Quiet Machines" in out.getvalue()
    # A credentials folder without the key (another service's) leaves the key file in charge.
    assert load_settings(config, {"CREDENTIALS_DIRECTORY": str(tmp_path)}).key_path == key_file
