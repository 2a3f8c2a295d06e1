"""Store scale: imports, checkout+checkin and patron lookups on a million-patron SQLCipher store.

Run `python -m bench.store_scale` (full size: 1,000,000 patrons, 2,000,000 items, 300,000 loans)
or scale down with `--patrons 10000 --items 20000 --loans 3000` for a quick check. It prints
figures and never asserts; the results go into docs/performance.md ("Store scale").
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import sqlcipher3
from sqlalchemy import Table, insert, select, update

from core.errors import DomainError
from core.imports import ItemRow, PatronRow, import_items, import_patrons
from core.model import Item, ItemStatus, Loan, Patron
from core.policy.rules import CirculationRules
from core.security.secrets import Argon2Params
from core.services.actors import local_admin, terminal_actor
from core.services.circulation import checkin, checkout
from core.services.patrons import find_patron
from core.store.open import StoreOptions, create_store, open_store
from core.store.uow import Store

# A fixed Wednesday morning, so runs are comparable (the default calendar closes on Sundays).
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
# Media types of the records and their weights (percent).
MEDIA_TYPES, MEDIA_WEIGHTS = ("book", "magazine", "audio", "video", "cd"), (80, 5, 4, 7, 4)
GIVEN = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
FAMILY = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")
LOAN_BATCH = 10_000


@dataclass(frozen=True)
class Population:
    """Barcodes the measurements draw from: every patron, and the items not on loan."""

    patrons: list[str]
    available_items: list[str]


def machine() -> list[tuple[str, str]]:
    lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "?")
    return [
        ("nproc", str(os.cpu_count())),
        ("cpu", model),
        ("python", platform.python_version()),
        ("sqlite (sqlcipher3)", str(sqlcipher3.sqlite_version)),
        ("platform", platform.platform()),
        ("code (git)", _code_version()),
    ]


def _code_version() -> str:
    # The figures belong to the code measured: name the commit, and say if the tree differs.
    try:
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def item_rows(count: int, rng: random.Random) -> Iterator[tuple[int, ItemRow]]:
    """`count` copies on about count/2 records (1 to 3 copies each); one in ten has no ISBN."""
    made = record = 0
    while made < count:
        record += 1
        media_type = rng.choices(MEDIA_TYPES, MEDIA_WEIGHTS)[0]
        isbn = "" if record % 10 == 0 else f"978{record:010d}"
        title, author = f"Title of work {record}", f"Author {record % 50_000}, A."
        for _ in range(min(rng.randint(1, 3), count - made)):
            made += 1
            row = ItemRow(
                barcode=f"3{made:013d}",
                title=title,
                author=author,
                isbn=isbn,
                call_number=f"{record % 1000:03d} AUT",
                media_type=media_type,
                location="stacks",
            )
            yield made + 1, row  # line numbers as in a CSV file after its header


def patron_rows(count: int, rng: random.Random) -> Iterator[tuple[int, PatronRow]]:
    """`count` patrons without PINs (a PIN costs an argon2 hash, which is not what is measured)."""
    for n in range(1, count + 1):
        yield (
            n + 1,
            PatronRow(
                barcode=f"2{n:013d}",
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                category="child" if rng.random() < 0.15 else "adult",
                expires_on="2030-01-01",
                pin="",
                email=f"patron{n}@example.org" if n % 2 else "",
                phone="",
            ),
        )


def timed(label: str, action: Callable[[], int]) -> None:
    """Run `action` (which returns how many rows it wrote) and print rows/s."""
    start, cpu = time.perf_counter(), time.process_time()
    rows = action()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = rows / seconds if seconds > 0 else float("inf")
    report(label, f"{rows:,} rows in {seconds:,.1f} s = {rate:,.0f} rows/s")
    report("  CPU time of this process", cpu_text(cpu, seconds))


def report(label: str, value: str) -> None:
    print(f"  {label:<34} {value}", flush=True)


def build(store: Store, args: argparse.Namespace, rng: random.Random) -> Population:
    """Import items and patrons through core.imports, then bulk-insert the active loans."""
    admin = local_admin()

    def items() -> int:
        with store.write() as uow:
            done = import_items(uow, admin, NOW, item_rows(args.items, rng))
        report("records created", f"{done.records_created:,}")
        return done.items_created

    def patrons() -> int:
        with store.write() as uow:
            done = import_patrons(uow, admin, NOW, patron_rows(args.patrons, rng))
        return done.patrons_created

    timed("import items (core.imports)", items)
    timed("import patrons (core.imports)", patrons)
    loaned: set[int] = set()
    timed("loans (bulk SQL, set-up only)", lambda: add_loans(store, args.loans, rng, loaned))
    with store.read() as uow:
        item_codes = uow.session.execute(select(Item.id, Item.barcode)).all()
        patron_codes = list(uow.session.scalars(select(Patron.barcode)))
    available = [barcode for item_id, barcode in item_codes if item_id not in loaned]
    return Population(patrons=patron_codes, available_items=available)


def add_loans(store: Store, count: int, rng: random.Random, loaned: set[int]) -> int:
    """Active loans written straight into `loans`, bypassing the services: this is set-up."""
    loans, items = cast(Table, Loan.__table__), cast(Table, Item.__table__)
    with store.write() as uow:
        connection = uow.session.connection()
        item_ids = list(connection.execute(select(items.c.id)).scalars())
        patron_ids = list(connection.execute(select(Patron.id)).scalars())
        chosen = rng.sample(item_ids, min(count, len(item_ids)))
        loaned.update(chosen)
        rows: list[dict[str, object]] = []
        for item_id in chosen:
            out = NOW - dt.timedelta(minutes=rng.randrange(20 * 24 * 60))
            rows.append(
                {
                    "patron_id": rng.choice(patron_ids),
                    "item_id": item_id,
                    "branch": "main",
                    "checked_out_at": out,
                    "due_at": out + dt.timedelta(days=21),
                    "renewals": 0,
                }
            )
        for start in range(0, len(rows), LOAN_BATCH):
            connection.execute(insert(loans), rows[start : start + LOAN_BATCH])
        connection.execute(
            update(items)
            .where(items.c.id.in_(select(loans.c.item_id)))
            .values(status=ItemStatus.ON_LOAN.value, status_changed_at=NOW)
        )
    return len(rows)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def latency_text(samples: list[float]) -> str:
    ordered = sorted(samples)
    ms = [percentile(ordered, q) * 1000 for q in (50, 99)]
    return f"p50 {ms[0]:.2f} ms, p99 {ms[1]:.2f} ms, max {ordered[-1] * 1000:.2f} ms"


def cpu_text(cpu: float, wall: float) -> str:
    # CPU close to wall time means the work is computation, not waiting for fsync or the disk;
    # a load average well above 1 means other jobs shared the two cores during the phase.
    share = cpu / wall * 100 if wall > 0 else 0.0
    load = os.getloadavg()[0]
    return f"{cpu:,.1f} s of {wall:,.1f} s wall ({share:.0f}%), load average {load:.1f}"


def measure_pairs(store: Store, population: Population, pairs: int, rng: random.Random) -> None:
    """Checkout then checkin through the services, each in its own write transaction."""
    actor = terminal_actor("bench", "main")
    out_times: list[float] = []
    in_times: list[float] = []
    refused = 0
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(pairs):
        patron = rng.choice(population.patrons)
        item = rng.choice(population.available_items)
        began = time.perf_counter()
        try:
            with store.write() as uow:
                checkout(uow, actor, NOW, patron, item)
        except DomainError:
            refused += 1
            continue
        middle = time.perf_counter()
        with store.write() as uow:
            checkin(uow, actor, NOW, item)
        out_times.append(middle - began)
        in_times.append(time.perf_counter() - middle)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    done = len(out_times)
    rate = done / seconds if seconds > 0 else float("inf")
    report("checkout+checkin pairs", f"{done:,} in {seconds:,.1f} s = {rate:,.0f} pairs/s")
    report("  CPU time of this process", cpu_text(cpu, seconds))
    if refused:
        report("checkouts refused (skipped)", f"{refused:,}")
    if done:
        report("checkout transaction", latency_text(out_times))
        report("checkin transaction", latency_text(in_times))


def measure_grouped(
    store: Store, population: Population, pairs: int, group: int, rng: random.Random
) -> None:
    """The same pairs under group commit: `group` pairs share one commit (`Store.batch()`)."""
    actor = terminal_actor("bench", "main")
    done = refused = 0
    start, cpu = time.perf_counter(), time.process_time()
    while done + refused < pairs:
        with store.batch() as batch:
            for _ in range(min(group, pairs - done - refused)):
                patron = rng.choice(population.patrons)
                item = rng.choice(population.available_items)
                try:
                    with batch.write() as uow:
                        checkout(uow, actor, NOW, patron, item)
                except DomainError:
                    refused += 1
                    continue
                with batch.write() as uow:
                    checkin(uow, actor, NOW, item)
                done += 1
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = done / seconds if seconds > 0 else float("inf")
    label = f"pairs, {group} per commit"
    report(label, f"{done:,} in {seconds:,.1f} s = {rate:,.0f} pairs/s")
    report("  CPU time of this process", cpu_text(cpu, seconds))
    if refused:
        report("checkouts refused (skipped)", f"{refused:,}")


def measure_lookups(store: Store, population: Population, lookups: int, rng: random.Random) -> None:
    """`find_patron` by barcode for a terminal, each in its own read transaction."""
    actor = terminal_actor("bench", "main")
    samples: list[float] = []
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(lookups):
        barcode = rng.choice(population.patrons)
        began = time.perf_counter()
        with store.read() as uow:
            find_patron(uow, actor, NOW, barcode)
        samples.append(time.perf_counter() - began)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if samples:
        report("patron lookups (find_patron)", f"{len(samples):,}; {latency_text(samples)}")
        report("  CPU time of this process", cpu_text(cpu, seconds))


def size_text(database: Path) -> str:
    sizes = {
        suffix or "file": Path(f"{database}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{database}{suffix}").exists()
    }
    parts = ", ".join(f"{name} {size / 1e6:,.1f}" for name, size in sizes.items())
    return f"{sum(sizes.values()) / 1e6:,.1f} MB ({parts})"


def print_profile(profile: cProfile.Profile, limit: int) -> None:
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats(order).print_stats(limit)
        print(f"\n--- profile of the measured phases, by {order} ---", flush=True)
        print(text.getvalue(), flush=True)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.store_scale", description=__doc__)
    parser.add_argument("--patrons", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=2_000_000)
    parser.add_argument("--loans", type=int, default=300_000)
    parser.add_argument("--pairs", type=int, default=20_000, help="checkout+checkin pairs")
    parser.add_argument("--lookups", type=int, default=10_000, help="patron lookups")
    parser.add_argument(
        "--synchronous",
        nargs="+",
        choices=("FULL", "NORMAL"),
        default=["FULL"],
        help="measure under each setting in turn (the store is built with the first)",
    )
    parser.add_argument(
        "--group-commit",
        type=int,
        default=0,
        metavar="N",
        help="also measure the pairs with N pairs per commit (Store.batch, as the SIP2 server)",
    )
    parser.add_argument("--dir", type=Path, help="keep the store here (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the measured phases")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, argv: Sequence[str], folder: Path) -> None:
    rng = random.Random(args.seed)
    print("machine", flush=True)
    for label, value in machine():
        report(label, value)
    print(f"command\n  {' '.join(['python -m bench.store_scale', *argv])}", flush=True)
    # Plain argon2 defaults: no PIN is hashed in this run, so the cost never shows.
    argon2 = Argon2Params()
    rules = CirculationRules()
    options = StoreOptions(
        database=folder / "reticent.db",
        key_file=folder / "reticent.key",
        synchronous=args.synchronous[0],
    )
    print(f"build (synchronous = {options.synchronous})", flush=True)
    store = create_store(options, rules, argon2, now=NOW)
    population = build(store, args, rng)
    report("size after build", size_text(options.database))
    profile = cProfile.Profile()
    for index, mode in enumerate(args.synchronous):
        if index > 0:
            store.close()
            store = open_store(replace(options, synchronous=mode), rules, argon2)
        print(f"service layer (synchronous = {mode})", flush=True)
        with profile if args.profile and index == 0 else nullcontext():
            measure_pairs(store, population, args.pairs, rng)
            if args.group_commit > 1:
                measure_grouped(store, population, args.pairs, args.group_commit, rng)
            measure_lookups(store, population, args.lookups, rng)
    store.close()
    report("size at the end", size_text(options.database))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report("peak RSS of this process", f"{peak:,.0f} MB")
    if args.profile:
        print_profile(profile, 30)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = parse(arguments)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        run(args, arguments, args.dir)
    else:
        with tempfile.TemporaryDirectory(prefix="reticent-bench-") as folder:
            run(args, arguments, Path(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
