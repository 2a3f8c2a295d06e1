"""SIP2 load: the real `reticent serve` process driven by concurrent kiosk sessions over TCP.

Run `python -m bench.sip2_load --sessions 50` (or 1, 500, ...) for the request loop, or
`python -m bench.sip2_load --idle 2000` for held, logged-in, idle sessions. Each run makes a
fresh instance in a temporary folder (`reticent init`, then a terminal account, one patron
with a PIN and `--items` items per session, written with core functions), starts
`reticent --config DIR/reticent.toml serve --sip2-listen 127.0.0.1:PORT` as its own process
(logging at the default INFO level, to a file) and drives it from `--procs` generator
processes over raw sockets with pre-encoded requests (AY/AZ on, sequence numbers advancing).

Every session logs in once, proves its PIN once (outside the measured window), then loops
patron information (with the PIN) / item information / checkout / checkin, one request
outstanding, for `--seconds`. Checkouts and checkins are committed durably before their answer
(the instance's default `synchronous = FULL`). argon2 is made cheap in the instance's
configuration (time_cost 1, 8 MiB, 1 lane) so that setting up hundreds of PINs is quick; the
server checks a PIN with argon2 once per session and then remembers it, so this does not
change the measured loop. Figures are printed, never asserted; they go into
docs/performance.md ("SIP2 load"). `--workers N` serves from N worker processes
(`serve --sip2-workers N`); CPU and memory are then summed over the processes, with PSS beside
RSS because forked workers share pages. `--profile FILE` runs the server under cProfile (every
thread) and writes the merged statistics to FILE, and those of the event loop thread alone to
FILE.loop.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import multiprocessing.connection
import os
import platform
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from config.bootstrap import build_store
from config.settings import load_settings
from core.imports import ItemRow, PatronRow, import_items, import_patrons
from core.services.accounts import add_sip_account
from core.services.actors import local_admin
from sip2.codec import (
    Checkin,
    Checkout,
    Connection,
    ItemInformation,
    Login,
    PatronInformation,
    SCStatus,
    checksum,
)

TERMINAL = "loadkiosk"
PASSWORD = "load-terminal-secret"
PIN = "4711"
CHEAP_ARGON2 = {"time_cost": "1", "memory_cost_kib": "8192", "parallelism": "1"}
# One loop of a session; each message goes out with the next AY (0-9), so a cycle of these
# four repeats its exact bytes only every 20 requests and is never mistaken for a retry.
CYCLE = ("63", "17", "11", "09")
OK_PREFIX = {"63": b"64", "17": b"18", "11": b"121", "09": b"101", "93": b"941", "99": b"98"}
ANSWER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SessionPlan:
    """What one simulated kiosk sends: its login, one warm-up request and its loop of bytes."""

    login: bytes
    warm_up: bytes
    loop: tuple[tuple[str, bytes], ...]


@dataclass
class WorkerResult:
    """What a generator process measured in the window."""

    latencies: dict[str, list[float]] = field(default_factory=dict)  # seconds, by command
    errors: dict[str, int] = field(default_factory=dict)
    cpu_s: float = 0.0
    last_answer: float = 0.0


def session_plans(sessions: int, items: int) -> list[SessionPlan]:
    when = dt.datetime.now().replace(microsecond=0)
    plans = []
    for n in range(sessions):
        patron = f"2{n:013d}"
        barcodes = [f"3{n * items + k:013d}" for k in range(items)]
        conn = Connection("sc")
        login = conn.send(Login(login_user_id=TERMINAL, login_password=PASSWORD))
        info = PatronInformation(
            transaction_date=when, institution_id="main", patron_id=patron, patron_password=PIN
        )
        warm_up = conn.send(info)
        loop: list[tuple[str, bytes]] = []
        for rep in range(10):  # 10 passes x 4 messages: AY (mod 10) differs from the last one
            item = barcodes[rep % items]
            for command in CYCLE:
                if command == "63":
                    data = conn.send(info)
                elif command == "17":
                    data = conn.send(
                        ItemInformation(transaction_date=when, institution_id="main", item_id=item)
                    )
                elif command == "11":
                    data = conn.send(
                        Checkout(
                            sc_renewal_policy=False,
                            no_block=False,
                            transaction_date=when,
                            institution_id="main",
                            patron_id=patron,
                            item_id=item,
                            terminal_password="",
                            patron_password=PIN,
                        )
                    )
                else:
                    data = conn.send(
                        Checkin(
                            no_block=False,
                            transaction_date=when,
                            return_date=when,
                            current_location="main",
                            institution_id="main",
                            item_id=item,
                            terminal_password="",
                        )
                    )
                loop.append((command, data))
        plans.append(SessionPlan(login, warm_up, tuple(loop)))
    return plans


# -- the instance and the server ----------------------------------------------------------------
def make_instance(root: Path, patrons: int, items: int) -> Path:
    """`reticent init`, cheap argon2, a terminal account, patrons with PINs and their items."""
    data_dir = root / "instance"
    reticent = Path(sys.executable).with_name("reticent")
    subprocess.run(
        [str(reticent), "init", "--data-dir", str(data_dir)], check=True, stdout=subprocess.DEVNULL
    )
    config = data_dir / "reticent.toml"
    lines = config.read_text(encoding="utf-8").splitlines()
    section = ""
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip()
        key = line.split("=", 1)[0].strip()
        if section == "[security.argon2]" and key in CHEAP_ARGON2:
            lines[i] = f"{key} = {CHEAP_ARGON2[key]}"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    now = dt.datetime.now(dt.UTC)
    store = build_store(load_settings(config, {}))
    try:
        admin = local_admin()
        with store.write() as uow:
            add_sip_account(
                uow,
                admin,
                now,
                TERMINAL,
                store.env.hasher.hash(PASSWORD),
                institution_id="main",
                location="main",
                profile="minimal",
            )
        with store.write() as uow:
            import_patrons(uow, admin, now, patron_rows(patrons))
        with store.write() as uow:
            import_items(uow, admin, now, item_rows(patrons * items))
    finally:
        store.close()
    return config


def patron_rows(count: int) -> Iterator[tuple[int, PatronRow]]:
    for n in range(count):
        row = PatronRow(
            barcode=f"2{n:013d}",
            given_name="Load",
            family_name=f"Patron {n}",
            category="adult",
            expires_on="2030-01-01",
            pin=PIN,
            email="",
            phone="",
        )
        yield n + 2, row


def item_rows(count: int) -> Iterator[tuple[int, ItemRow]]:
    for n in range(count):
        row = ItemRow(
            barcode=f"3{n:013d}",
            title=f"Load test title {n // 2}",
            author="Author, A.",
            isbn="",
            call_number="000 AUT",
            media_type="book",
            location="stacks",
        )
        yield n + 2, row


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    config: Path, port: int, log: Path, profile: Path | None, workers: int | None = None
) -> subprocess.Popen[bytes]:
    serve = ["--config", str(config), "serve", "--sip2-listen", f"127.0.0.1:{port}"]
    if workers is not None:
        serve += ["--sip2-workers", str(workers)]
    if profile is None:
        command = [str(Path(sys.executable).with_name("reticent")), *serve]
    else:
        command = [sys.executable, "-m", "bench.sip2_load", "--serve-profiled", str(profile), "--"]
        command += serve
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early; see {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start listening")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_profiled(profile_path: Path, argv: Sequence[str]) -> int:
    """Run `reticent` with cProfile in every thread (the database work runs in worker threads)."""
    import cProfile
    import pstats
    import threading

    from config.cli import main

    profiles: list[cProfile.Profile] = []
    thread_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        profiler = cProfile.Profile()
        profiles.append(profiler)
        profiler.enable()
        try:
            thread_run(self)
        finally:
            profiler.disable()

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    main_profile = cProfile.Profile()
    main_profile.enable()
    try:
        code = main(list(argv))
    finally:
        main_profile.disable()
        # The event loop alone too (FILE.loop): its cost per request is what the codec, the log
        # line and the thread hops add to the database work.
        main_profile.dump_stats(f"{profile_path}.loop")
        stats = pstats.Stats(main_profile)
        for profiler in profiles:
            stats.add(profiler)
        stats.dump_stats(str(profile_path))
    return code


def _ticks(stat_path: Path) -> float:
    stat = stat_path.read_text(encoding="ascii")
    after_name = stat.rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the SIP2 worker processes, when there are several)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text(encoding="ascii").split()
            except OSError:
                continue
            pending.extend(int(child) for child in children)
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process and its descendants, from /proc."""
    total = 0.0
    for member in process_tree(pid):
        try:
            total += _ticks(Path(f"/proc/{member}/stat"))
        except OSError:
            continue
    return total


def thread_cpu(pid: int) -> dict[tuple[int, str], float]:
    """CPU seconds of every thread of a process tree, by (thread id, thread name)."""
    found: dict[tuple[int, str], float] = {}
    for member in process_tree(pid):
        for task in Path(f"/proc/{member}/task").glob("*"):
            try:
                name = (task / "comm").read_text(encoding="ascii").strip()
                found[(int(task.name), name)] = _ticks(task / "stat")
            except OSError:
                continue
    return found


def thread_cpu_by_name(
    before: dict[tuple[int, str], float], after: dict[tuple[int, str], float]
) -> dict[str, float]:
    """CPU seconds spent between two ``thread_cpu`` readings, summed by thread name."""
    spent: dict[str, float] = {}
    for key, seconds in after.items():
        name = key[1]
        spent[name] = spent.get(name, 0.0) + seconds - before.get(key, 0.0)
    return spent


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM and Pss of a process and its descendants (summed), in KiB, from /proc."""
    found: dict[str, int] = {}
    for member in process_tree(pid):
        try:
            text = Path(f"/proc/{member}/status").read_text(encoding="ascii")
        except OSError:
            continue
        for line in text.splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = found.get(name, 0) + int(value.split()[0])
        # Forked workers share their parent's pages until they write them: RSS counts those
        # pages in every process, PSS divides them among the processes that share them.
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text(encoding="ascii")
        except OSError:
            continue
        for line in rollup.splitlines():
            name, _, value = line.partition(":")
            if name == "Pss":
                found["Pss"] = found.get("Pss", 0) + int(value.split()[0])
    return found


# -- the generator ------------------------------------------------------------------------------
def _read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def _open_sessions(port: int, plans: Sequence[SessionPlan]) -> list[socket.socket]:
    """Connect and log in every session, then send each one's warm-up (its PIN check)."""
    socks = []
    for _ in plans:
        sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_S * 3)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(sock)
    for step in ("login", "warm_up"):
        for sock, plan in zip(socks, plans, strict=True):
            sock.sendall(plan.login if step == "login" else plan.warm_up)
        for sock in socks:
            answer = _read_line(sock)
            if not answer.startswith(OK_PREFIX["93" if step == "login" else "63"]):
                raise RuntimeError(f"{step} refused: {answer[:40]!r}")
    return socks


def generator(
    port: int,
    plans: Sequence[SessionPlan],
    pipe: multiprocessing.connection.Connection,
) -> None:
    """One generator process: open its sessions, wait for the start, loop until the end."""
    socks = _open_sessions(port, plans)
    pipe.send("ready")
    start, end = pipe.recv()
    result = WorkerResult(latencies={command: [] for command in CYCLE})
    selector = selectors.EpollSelector()
    position = [0] * len(socks)
    sent_at = [0.0] * len(socks)
    buffers = [b""] * len(socks)
    sent = [0] * len(socks)
    while time.monotonic() < start:
        time.sleep(min(0.01, max(0.0, start - time.monotonic())))
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    for index, sock in enumerate(socks):
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, index)
        sent_at[index] = time.monotonic()
        sock.send(plans[index].loop[0][1])
    outstanding = len(socks)
    while outstanding:
        now = time.monotonic()
        if now > end + ANSWER_TIMEOUT_S:
            result.errors["no answer"] = result.errors.get("no answer", 0) + outstanding
            break
        for key, _ in selector.select(timeout=0.5):
            index = int(key.data)
            sock = socks[index]
            try:
                chunk = sock.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                result.errors["closed"] = result.errors.get("closed", 0) + 1
                selector.unregister(sock)
                outstanding -= 1
                continue
            buffer = buffers[index] + chunk
            if not buffer.endswith(b"\r"):
                buffers[index] = buffer
                continue
            buffers[index] = b""
            answered = time.monotonic()
            loop = plans[index].loop
            command = loop[position[index]][0]
            if answered <= end:
                result.latencies[command].append(answered - sent_at[index])
                result.last_answer = answered
                if not buffer.startswith(OK_PREFIX[command]):
                    kind = f"{command} answered {buffer[:3].decode(errors='replace')}"
                    result.errors[kind] = result.errors.get(kind, 0) + 1
            if answered >= end:
                selector.unregister(sock)
                outstanding -= 1
                continue
            position[index] = (position[index] + 1) % len(loop)
            sent_at[index] = answered
            sent[index] += 1
            sock.send(dated(loop[position[index]], sent[index]))
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_s = (cpu_after.ru_utime + cpu_after.ru_stime) - (
        cpu_before.ru_utime + cpu_before.ru_stime
    )
    pipe.send(result)
    for sock in socks:
        sock.close()


# Where the terminal's transaction date sits in a checkout (11) and a checkin (09).
DATE_AT = {"11": 4, "09": 3}
DATE_BASE = dt.datetime(2026, 1, 1)


def dated(step: tuple[str, bytes], sent: int) -> bytes:
    """A checkout or checkin with a transaction date of its own (a second per request sent),
    so that the server never takes it for the retry of an earlier one; other bytes as they are.
    """
    command, data = step
    at = DATE_AT.get(command)
    if at is None:
        return data
    moment = DATE_BASE + dt.timedelta(seconds=sent)
    body = data[:at] + moment.strftime("%Y%m%d    %H%M%S").encode() + data[at + 18 : -5]
    return body + checksum(body).encode() + b"\r"


# -- scenarios ----------------------------------------------------------------------------------
def percentile(ordered: Sequence[float], share: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def print_latencies(label: str, values: list[float]) -> None:
    values.sort()
    ms = [percentile(values, p) * 1000 for p in (0.5, 0.9, 0.99)]
    top = values[-1] * 1000 if values else float("nan")
    print(
        f"  {label:<18} n={len(values):>8,}  p50 {ms[0]:6.2f}  p90 {ms[1]:6.2f}  "
        f"p99 {ms[2]:6.2f}  max {top:7.2f} ms"
    )


def run_load(args: argparse.Namespace, root: Path) -> None:
    sessions, procs = args.sessions, max(1, min(args.procs, args.sessions))
    config = make_instance(root, sessions, args.items)
    plans = session_plans(sessions, args.items)
    port = free_port()
    server = start_server(config, port, root / "server.log", args.profile, args.workers)
    context = multiprocessing.get_context("spawn")
    pipes, workers = [], []
    try:
        for w in range(procs):
            mine, theirs = context.Pipe()
            worker = context.Process(target=generator, args=(port, plans[w::procs], theirs))
            worker.start()
            pipes.append(mine)
            workers.append(worker)
        for pipe in pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("a generator failed to start")
        start = time.monotonic() + 0.2
        end = start + args.seconds
        for pipe in pipes:
            pipe.send((start, end))
        while time.monotonic() < start:
            time.sleep(0.001)
        server_cpu_before = cpu_seconds(server.pid)
        threads_before = thread_cpu(server.pid)
        while time.monotonic() < end:
            time.sleep(0.05)
        server_cpu = cpu_seconds(server.pid) - server_cpu_before
        threads = thread_cpu_by_name(threads_before, thread_cpu(server.pid))
        server_memory = memory_kib(server.pid)
        results: list[WorkerResult] = [pipe.recv() for pipe in pipes]
    finally:
        for worker in workers:
            worker.join(timeout=30)
        stop_server(server)
    window = args.seconds
    every: list[float] = []
    errors: dict[str, int] = {}
    for result in results:
        for values in result.latencies.values():
            every.extend(values)
        for kind, count in result.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    print(f"sessions {sessions}, {args.items} items each, {window:g} s, {procs} generator(s)")
    print(f"  requests/s         {len(every) / window:,.0f}  ({len(every):,} answered)")
    print_latencies("all requests", every)
    for command in CYCLE:
        merged = [v for result in results for v in result.latencies[command]]
        print_latencies(f"{command} ({NAMES[command]})", merged)
    print(f"  errors             {sum(errors.values())} {errors if errors else ''}")
    print(f"  server CPU         {server_cpu:.1f} s = {server_cpu / window:.2f} cores")
    answered = max(1, len(every))
    print(f"  server CPU/request {server_cpu / answered * 1e6:.0f} us")
    for name, seconds in sorted(threads.items(), key=lambda pair: -pair[1]):
        if seconds > 0:
            share = seconds / answered * 1e6
            print(f"    thread {name:<16} {seconds:.1f} s = {share:.0f} us a request")
    generator_cpu = sum(result.cpu_s for result in results)
    print(f"  generator CPU      {generator_cpu:.1f} s = {generator_cpu / window:.2f} cores")
    print(
        f"  server RSS         {server_memory.get('VmRSS', 0) / 1024:.1f} MiB "
        f"(PSS {server_memory.get('Pss', 0) / 1024:.1f} MiB)"
    )


NAMES = {"63": "patron info", "17": "item info", "11": "checkout", "09": "checkin"}


def run_idle(args: argparse.Namespace, root: Path) -> None:
    config = make_instance(root, 1, 1)
    port = free_port()
    server = start_server(config, port, root / "server.log", args.profile, args.workers)
    socks: list[socket.socket] = []
    try:
        time.sleep(0.5)
        baseline = memory_kib(server.pid)
        login = Connection("sc").send(Login(login_user_id=TERMINAL, login_password=PASSWORD))
        started = time.monotonic()
        batch = 250
        for first in range(0, args.idle, batch):
            opened = []
            for _ in range(min(batch, args.idle - first)):
                sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_S * 3)
                sock.sendall(login)
                opened.append(sock)
            for sock in opened:
                if not _read_line(sock).startswith(OK_PREFIX["93"]):
                    raise RuntimeError("login refused")
            socks.extend(opened)
        logged_in = time.monotonic() - started
        time.sleep(args.hold)
        held = memory_kib(server.pid)
        status = Connection("sc").send(SCStatus(max_print_width=40))
        for sock in socks:
            sock.sendall(status)
        alive = sum(1 for sock in socks if _read_line(sock).startswith(OK_PREFIX["99"]))
    finally:
        for sock in socks:
            sock.close()
        stop_server(server)
    rss, base = held.get("VmRSS", 0), baseline.get("VmRSS", 0)
    print(f"idle sessions {args.idle}: logged in in {logged_in:.1f} s, held {args.hold:g} s")
    print(f"  server RSS before  {base / 1024:.1f} MiB (PSS {baseline.get('Pss', 0) / 1024:.1f})")
    print(f"  server RSS held    {rss / 1024:.1f} MiB (peak {held.get('VmHWM', 0) / 1024:.1f} MiB)")
    print(f"  server PSS held    {held.get('Pss', 0) / 1024:.1f} MiB (all processes)")
    print(f"  per session        {(rss - base) / max(1, args.idle):.1f} KiB")
    print(f"  answered a 99 afterwards: {alive} of {len(socks)}")


def machine() -> str:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"nproc {os.cpu_count()}, {model}, Python {platform.python_version()}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--serve-profiled"]:
        return serve_profiled(Path(argv[1]), argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--sessions", type=int, help="concurrent sessions looping requests")
    mode.add_argument("--idle", type=int, help="logged-in sessions to open and hold")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window (load)")
    parser.add_argument("--items", type=int, default=2, help="items per session (load)")
    parser.add_argument("--procs", type=int, default=1, help="generator processes (load)")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to hold (idle)")
    parser.add_argument("--profile", type=Path, help="cProfile the server into this file")
    parser.add_argument(
        "--workers", type=int, help="serve with --sip2-workers N (default: the configured 1)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance")
    args = parser.parse_args(argv)
    print(machine())
    root = Path(tempfile.mkdtemp(prefix="reticent-sip2-load-"))
    try:
        if args.sessions is not None:
            run_load(args, root)
        else:
            run_idle(args, root)
    finally:
        if args.keep:
            print(f"instance kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
