"""A real `reticent serve` process on a fresh instance, and a blocking SIP2 terminal for it."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from config.bootstrap import build_store
from config.settings import load_settings
from sip2.codec import Checkin, Checkout, Connection, Login, Message, PatronInformation
from tests.config.cli_support import new_instance, set_option
from tests.conftest import add_patron, add_record_with_items
from tests.sip2.conftest import add_terminal

RETICENT = "import sys; from config.cli import main; sys.exit(main())"
TERMINAL = "kiosk1"
PASSWORD = "terminal-Hq8vW2"
WRONG_PASSWORD = "mistyped-Rz4kN9"
# Fixture values chosen so that none can turn up by chance inside a number or a word.
PATRONS = {
    "PZQ0001": ("Hypatia", "Quellcrest", "pin-Xw7Kq"),
    "PZQ0002": ("Zenobia", "Marchbank", "pin-Tn4Rv"),
    "PZQ0003": ("Ottoline", "Vasquezmoor", "pin-Lp9Hd"),
}
ITEMS = ("IQX4401", "IQX4402", "IQX4403")
START_TIMEOUT_S = 30.0
GRACE_S = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def personal_values() -> list[str]:
    """Everything that identifies a patron or an item, and every secret, in the fixture."""
    values = [PASSWORD, WRONG_PASSWORD, *ITEMS]
    for barcode, (given, family, pin) in PATRONS.items():
        values += [barcode, given, family, pin]
    return values


def make_instance(tmp_path: Path) -> Path:
    """`reticent init` with a terminal account, three patrons with PINs and three items; the
    SIP2 listener on a free port. The configuration file's path."""
    config = new_instance(tmp_path)
    set_option(config, "port", str(free_port()))
    set_option(config, "shutdown_grace_s", repr(GRACE_S))
    store = build_store(load_settings(config, {}))
    try:
        add_terminal(store, TERMINAL, PASSWORD)
        for barcode, (given, family, pin) in PATRONS.items():
            add_patron(store, barcode, given=given, family=family, pin=pin)
        add_record_with_items(store, "A Book About Quiet Machines", list(ITEMS))
    finally:
        store.close()
    return config


def sip2_port(config: Path) -> int:
    return load_settings(config, {}).sip2.listeners[0].port


@dataclass
class Served:
    """A running `reticent serve`: its process, its standard output lines so far, its log."""

    process: subprocess.Popen[bytes]
    log: Path
    lines: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=GRACE_S + 15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def serve(
    config: Path, tmp_path: Path, *options: str, env: dict[str, str] | None = None
) -> Served:
    """Start `reticent serve` and wait until its SIP2 port accepts connections."""
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", RETICENT, "--config", str(config), "serve", *options]
    environ = {**os.environ, **(env or {})}
    if "WATCHDOG_USEC" in environ:
        # As systemd does: the watchdog belongs to the main process (the one exec'd here).
        command = ["sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh", *command]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log.open("wb"), env=environ)
    served = Served(process, log)
    assert process.stdout is not None
    served.lines.append(process.stdout.readline().decode())
    if not re.search(r"SIP2 on 127\.0\.0\.1:\d+", served.lines[0]):
        served.stop()
        raise AssertionError(f"serve did not start: {served.lines} {served.log_text()}")
    # "try it", then the metrics address; worker processes print neither.
    more = 0 if "--sip2-workers" in options else 2 if "--metrics-listen" in options else 1
    served.lines += [process.stdout.readline().decode() for _ in range(more)]
    port = sip2_port(config)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return served
        except OSError:
            time.sleep(0.05)
    served.stop()
    raise AssertionError(f"server did not listen: {served.log_text()}")


def today() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class Terminal:
    """One SIP2 terminal over a blocking socket, with the in-tree codec."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.conn = Connection("sc")

    def send(self, message: Message) -> bytes:
        self.sock.sendall(self.conn.send(message))
        answer = b""
        while not answer.endswith(b"\r"):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the server")
            answer += chunk
        return answer

    def login(self, password: str = PASSWORD) -> bool:
        return self.send(Login(login_user_id=TERMINAL, login_password=password)).startswith(b"941")

    def patron_info(self, patron: str, pin: str) -> bytes:
        return self.send(
            PatronInformation(
                transaction_date=today(),
                institution_id="main",
                patron_id=patron,
                patron_password=pin,
            )
        )

    def checkout(self, patron: str, item: str, pin: str) -> bytes:
        return self.send(
            Checkout(
                sc_renewal_policy=False,
                no_block=False,
                transaction_date=today(),
                institution_id="main",
                patron_id=patron,
                item_id=item,
                terminal_password="",
                patron_password=pin,
            )
        )

    def checkin(self, item: str) -> bytes:
        return self.send(
            Checkin(
                no_block=False,
                transaction_date=today(),
                return_date=today(),
                current_location="main",
                institution_id="main",
                item_id=item,
                terminal_password="",
            )
        )

    def close(self) -> None:
        self.sock.close()


def busy_run(port: int) -> None:
    """A refused login, then per patron: information with the PIN, a wrong PIN, a checkout
    and a checkin of its item, and a request for an item nobody has."""
    first = Terminal(port)
    try:
        assert not first.login(WRONG_PASSWORD)
    finally:
        first.close()
    terminal = Terminal(port)
    try:
        assert terminal.login()
        for (barcode, (_, _, pin)), item in zip(PATRONS.items(), ITEMS, strict=True):
            assert terminal.patron_info(barcode, pin).startswith(b"64")
            terminal.patron_info(barcode, "pin-wrong0")
            assert terminal.checkout(barcode, item, pin).startswith(b"121")
            assert terminal.checkin(item).startswith(b"101")
        terminal.checkin("IQX9999")
    finally:
        terminal.close()
