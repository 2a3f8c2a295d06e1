"""Real processes for end-to-end device tests: `reticent serve`, `sim` and `station`."""

from __future__ import annotations

import datetime as dt
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from sqlalchemy import func, select

from config.bootstrap import build_store
from config.settings import load_settings
from core.model import Item, Loan
from core.services import circulation
from core.services.actors import local_admin
from tests.conftest import add_patron, add_record_with_items
from tests.sip2.conftest import PASSWORD, TERMINAL, add_terminal

RETICENT = "import sys; from config.cli import main; sys.exit(main())"
PATRON = "29990000000001"
START_TIMEOUT_S = 30.0
LINE_TIMEOUT_S = 20.0


class Process:
    """A child process whose standard output is read line by line on a thread."""

    def __init__(self, argv: Sequence[str], log: Path, *, stdin: bool = False) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-c", RETICENT, *argv],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log.open("ab"),
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def line(self, timeout: float = LINE_TIMEOUT_S) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line in {timeout} s; log:\n{self.log_text()}") from None
        self.seen.append(line)
        return line

    def lines_until(self, count: int, timeout: float = LINE_TIMEOUT_S) -> list[str]:
        return [self.line(timeout) for _ in range(count)]

    def no_line(self, wait: float) -> None:
        try:
            extra = self.lines.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected line {extra!r}")

    def write(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, pattern: str, timeout: float = LINE_TIMEOUT_S, *, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(re.findall(pattern, self.log_text())) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not logged in {timeout} s:\n{self.log_text()}")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def prepare_instance(config: Path, items: Sequence[str], *, on_loan: bool = True) -> None:
    """A terminal account, a patron, the items (lent to the patron unless told otherwise)."""
    store = build_store(load_settings(config, {}))
    try:
        add_terminal(store)
        add_patron(store, PATRON)
        add_record_with_items(store, "A Book About Book Drops", list(items))
        if on_loan:
            now = dt.datetime.now(dt.UTC)
            with store.write() as uow:
                for item in items:
                    circulation.checkout(uow, local_admin(), now, PATRON, item)
    finally:
        store.close()


def loans_of(config: Path, items: Sequence[str]) -> int:
    store = build_store(load_settings(config, {}))
    try:
        with store.read() as uow:
            query = (
                select(func.count())
                .select_from(Loan)
                .join(Item, Item.id == Loan.item_id)
                .where(Item.barcode.in_(list(items)))
            )
            return int(uow.session.scalar(query) or 0)
    finally:
        store.close()


def launch_server(config: Path, log: Path, port: int = 0) -> Process:
    argv = ["--config", str(config), "serve", "--sip2-listen", f"127.0.0.1:{port}"]
    return Process([*argv, "--no-daily-jobs"], log)


def server_port(server: Process) -> int:
    """Wait until a launched server listens; its port."""
    found = re.search(r"127\.0\.0\.1:(\d+)", server.line(START_TIMEOUT_S))
    assert found is not None, server.log_text()
    port = int(found.group(1))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return port
        except OSError:
            time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise AssertionError(f"server did not listen: {server.log_text()}")


def start_server(config: Path, log: Path, port: int = 0) -> tuple[Process, int]:
    server = launch_server(config, log, port)
    return server, server_port(server)


def launch_sim(kind: str, link: Path, log: Path, *options: str) -> Process:
    return Process(["sim", kind, "--link", str(link), *options], log, stdin=True)


def sim_ready(sim: Process, link: Path) -> Process:
    assert sim.line(START_TIMEOUT_S) == str(link)
    return sim


def start_sim(kind: str, link: Path, log: Path, *options: str) -> Process:
    return sim_ready(launch_sim(kind, link, log, *options), link)


def start_station(config: Path, log: Path, port: int, *options: str) -> Process:
    station = Process(
        [
            "--config",
            str(config),
            "station",
            "--sip2",
            f"127.0.0.1:{port}",
            "--login",
            TERMINAL,
            "--password-stdin",
            "--institution",
            "main",
            "--location",
            "main",
            *options,
        ],
        log,
        stdin=True,
    )
    station.write(PASSWORD)
    station.wait_log("station started", START_TIMEOUT_S)
    return station
