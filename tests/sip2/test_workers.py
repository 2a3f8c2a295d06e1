"""`reticent serve` with several SIP2 worker processes, as real processes over real TCP."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.bootstrap import build_store
from config.settings import load_settings
from sip2.codec import Checkin, Checkout, Connection, Login, Message, PatronInformation
from tests.config.cli_support import new_instance, set_option
from tests.conftest import add_patron, add_record_with_items
from tests.sip2.conftest import PASSWORD, PIN, add_terminal, loan_count

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT") or not hasattr(os, "fork"),
    reason="worker processes need fork and SO_REUSEPORT",
)

PATRONS = tuple(f"W{n:07d}" for n in range(4))
ITEMS = tuple(f"J{n:07d}" for n in range(4))
GRACE_S = 2.0
START_TIMEOUT_S = 30.0
RETICENT = "import sys; from config.cli import main; sys.exit(main())"
SESSIONS = 24  # enough that the kernel's spread reaches both workers (all on one: 2 in 2**24)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def children(self) -> set[int]:
        found: set[int] = set()
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            try:
                found.update(int(pid) for pid in (task / "children").read_text().split())
            except OSError:
                continue
        return found

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """A fresh instance: a terminal account, patrons with PINs, one item each."""
    config = new_instance(tmp_path)
    set_option(config, "shutdown_grace_s", repr(GRACE_S))
    store = build_store(load_settings(config, {}))
    try:
        add_terminal(store)
        for patron in PATRONS:
            add_patron(store, patron, pin=PIN)
        add_record_with_items(store, "A Book About Workers", list(ITEMS))
    finally:
        store.close()
    return config


def start(config: Path, tmp_path: Path, *options: str) -> Server:
    log = tmp_path / "server.log"
    command = [sys.executable, "-c", RETICENT, "--config", str(config), "serve"]
    command += ["--sip2-listen", "127.0.0.1:0", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log.open("wb"))
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    found = re.search(r"127\.0\.0\.1:(\d+)", line)
    assert found is not None, (line, log.read_text())
    server = Server(process, int(found.group(1)), log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"server did not listen: {server.log_text()}")


@pytest.fixture
def workers(instance: Path, tmp_path: Path) -> Iterator[Server]:
    server = start(instance, tmp_path, "--sip2-workers", "2", "--no-daily-jobs")
    yield server
    stop(server)


def stop(server: Server) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=GRACE_S + 10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        raise


class Kiosk:
    """One terminal over a blocking socket, with AY/AZ error detection (the default)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.conn = Connection("sc")

    def send(self, message: Message) -> bytes:
        return self.exchange(self.conn.send(message))

    def exchange(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        answer = b""
        while not answer.endswith(b"\r"):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the server")
            answer += chunk
        return answer

    def close(self) -> None:
        self.sock.close()


def today() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def checkout(patron: str, item: str) -> Checkout:
    return Checkout(
        sc_renewal_policy=False,
        no_block=False,
        transaction_date=today(),
        institution_id="main",
        patron_id=patron,
        item_id=item,
        terminal_password="",
        patron_password=PIN,
    )


def checkin(item: str) -> Checkin:
    return Checkin(
        no_block=False,
        transaction_date=today(),
        return_date=today(),
        current_location="main",
        institution_id="main",
        item_id=item,
        terminal_password="",
    )


def kiosk_session(port: int, n: int) -> None:
    """Log in, patron information with the PIN, check an item out and back in."""
    patron, item = PATRONS[n % len(PATRONS)], ITEMS[n % len(ITEMS)]
    kiosk = Kiosk(port)
    try:
        assert kiosk.send(Login(login_user_id="kiosk1", login_password=PASSWORD)).startswith(b"941")
        info = PatronInformation(
            transaction_date=today(), institution_id="main", patron_id=patron, patron_password=PIN
        )
        answer = kiosk.send(info)
        assert answer.startswith(b"64") and b"|CQY|" in answer
        assert kiosk.send(checkout(patron, item)).startswith(b"121")
        assert kiosk.send(checkin(item)).startswith(b"101")
    finally:
        kiosk.close()


def served_by(server: Server) -> set[str]:
    return set(re.findall(r"connection open .*worker=(\d+)", server.log_text()))


def loans(config: Path) -> int:
    store = build_store(load_settings(config, {}))
    try:
        return loan_count(store)
    finally:
        store.close()


def test_two_workers_serve_kiosk_sessions_end_to_end(workers: Server, instance: Path) -> None:
    assert len(workers.children()) == 2
    for n in range(SESSIONS):
        kiosk_session(workers.port, n)
    assert served_by(workers) == {"0", "1"}  # both processes took connections on one port
    assert loans(instance) == 0  # every checkout was checked back in, in whichever process
    assert "request failed" not in workers.log_text()


def test_sigterm_stops_every_worker_within_the_grace_period(workers: Server) -> None:
    children = workers.children()
    idle = [Kiosk(workers.port) for _ in range(6)]
    for kiosk in idle:
        kiosk.send(Login(login_user_id="kiosk1", login_password=PASSWORD))
    started = time.monotonic()
    workers.process.send_signal(signal.SIGTERM)
    assert workers.process.wait(timeout=GRACE_S + 5) == 0
    assert time.monotonic() - started < GRACE_S + 1
    for pid in children:
        assert not Path(f"/proc/{pid}").exists()
    for kiosk in idle:  # idle sessions were closed by their worker's drain
        assert kiosk.sock.recv(100) == b""
        kiosk.close()
    text = workers.log_text()
    assert text.count("worker stopped") == 2
    assert "workers killed" not in text


def test_a_retried_checkout_is_replayed_not_run_twice(workers: Server, instance: Path) -> None:
    kiosk = Kiosk(workers.port)
    try:
        kiosk.send(Login(login_user_id="kiosk1", login_password=PASSWORD))
        request = kiosk.conn.send(checkout(PATRONS[0], ITEMS[0]))
        first = kiosk.exchange(request)
        assert first.startswith(b"121")
        again = kiosk.exchange(request)  # the kiosk missed the answer and sends the same bytes
        assert again == first
    finally:
        kiosk.close()
    assert loans(instance) == 1


def test_a_killed_worker_is_restarted(workers: Server) -> None:
    before = workers.children()
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        now = workers.children()
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"not restarted: {workers.children()}")
    assert workers.process.poll() is None
    time.sleep(0.5)  # the new worker opens its socket
    for n in range(SESSIONS):
        kiosk_session(workers.port, n)
    assert "worker died" in workers.log_text()


def test_daily_jobs_run_in_worker_0_only(instance: Path, tmp_path: Path) -> None:
    server = start(instance, tmp_path, "--sip2-workers", "2")
    try:
        deadline = time.monotonic() + 15
        while "retention" not in server.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert stop(server) == 0
    daily = [line for line in server.log_text().splitlines() if " daily " in line]
    assert daily, server.log_text()
    assert all(line.endswith("worker=0") for line in daily)
    assert sum("retention" in line for line in daily) == 1


def test_one_worker_is_one_process(instance: Path, tmp_path: Path) -> None:
    server = start(instance, tmp_path, "--no-daily-jobs")
    try:
        assert server.children() == set()
        kiosk_session(server.port, 0)
        assert "worker=" not in server.log_text()
    finally:
        assert stop(server) == 0


def test_workers_that_keep_dying_stop_the_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from sip2.server import RestartPolicy, supervise
        policy = RestartPolicy(max_restarts=2, window_s=60, delay_s=0)
        sys.exit(supervise(lambda index: 3, 2, stop_grace_s=1, policy=policy))
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=30, check=False
    )
    assert done.returncode == 1
    assert time.monotonic() - started < 20
    assert b"workers keep dying" in done.stderr
