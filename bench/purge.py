"""Purge speed: remove a million expired patrons (with history) from a SQLCipher store.

Run `python -m bench.purge` (1,000,000 patrons) or `--patrons 200000` for a shorter run. It
builds the store with bulk inserts, runs the real purge (batched, secure_delete, ledger, WAL
truncation) and prints patrons/s and the database size before and after. It never asserts;
the results go into docs/performance.md ("Purge").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlcipher3
from sqlalchemy import func, insert, select, text

from core.model import Base, Consent, Patron, ReadingHistory
from core.model.notices import SentNotice
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.policy.retention import RetentionRules
from core.policy.rules import CirculationRules
from core.privacy.purge import DEFAULT_BATCH_SIZE, purge
from core.security.secrets import Argon2Params
from core.store.open import StoreOptions, create_store
from core.store.uow import Store

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
EXPIRED_ON = dt.date(2022, 6, 30)  # over two years before NOW: every patron is purged
LAST_ACTIVE = dt.date(2022, 6, 1)
INSERT_CHUNK = 50_000
HISTORY_EVERY = 4  # one patron in four opted in and has reading history
HISTORY_ROWS = 3
NOTICE_EVERY = 10  # one in ten has a kept notice
CHEAP = Argon2Params(time_cost=1, memory_cost_kib=1024, parallelism=1)
# Core inserts (one executemany each) rather than the ORM's per-row bookkeeping.
PATRONS, CONSENTS, HISTORY, NOTICES = (
    Base.metadata.tables[model.__tablename__]
    for model in (Patron, Consent, ReadingHistory, SentNotice)
)


def machine() -> list[tuple[str, str]]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return [
        ("nproc", str(os.cpu_count())),
        ("cpu", model),
        ("python", platform.python_version()),
        ("sqlite (sqlcipher3)", str(sqlcipher3.sqlite_version)),
    ]


def _chunks(total: int) -> Iterator[range]:
    for start in range(0, total, INSERT_CHUNK):
        yield range(start, min(start + INSERT_CHUNK, total))


def populate(store: Store, patrons: int) -> None:
    """Bulk-insert expired patrons, consents, reading history and notices (ids 1..patrons)."""
    for chunk in _chunks(patrons):
        with store.write() as uow:
            s = uow.session
            s.execute(
                insert(PATRONS),
                [
                    {
                        "id": n + 1,
                        "barcode": f"P{n:09d}",
                        "given_name": f"Given{n % 997}",
                        "family_name": f"Family{n % 1009}",
                        "category": "adult",
                        "home_branch": "main",
                        "expires_on": EXPIRED_ON,
                        "created_on": dt.date(2015, 1, 1),
                        "last_activity_on": LAST_ACTIVE,
                        "pin_failed_attempts": 0,
                        "is_minor": False,
                        "card_lost": False,
                    }
                    for n in chunk
                ],
            )
            opted = [n + 1 for n in chunk if n % HISTORY_EVERY == 0]
            if opted:
                s.execute(
                    insert(CONSENTS),
                    [
                        {
                            "patron_id": p,
                            "kind": CHECKOUT_HISTORY,
                            "granted_at": NOW,
                            "channel": "desk",
                        }
                        for p in opted
                    ],
                )
                s.execute(
                    insert(HISTORY),
                    [
                        {
                            "patron_id": p,
                            "title": f"Title {p % 5003}",
                            "author": "Author, Some",
                            "returned_on": LAST_ACTIVE,
                        }
                        for p in opted
                        for _ in range(HISTORY_ROWS)
                    ],
                )
            noticed = [n + 1 for n in chunk if n % NOTICE_EVERY == 0]
            if noticed:
                s.execute(
                    insert(NOTICES),
                    [
                        {
                            "patron_id": p,
                            "kind": "overdue",
                            "channel": "email",
                            "sent_at": NOW - dt.timedelta(days=5),
                            "summary": "1 item overdue",
                        }
                        for p in noticed
                    ],
                )


def size_of(database: Path) -> int:
    wal = database.with_name(database.name + "-wal")
    return database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def page_counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        pages = int(conn.execute(text("PRAGMA page_count")).scalar_one())
        free = int(conn.execute(text("PRAGMA freelist_count")).scalar_one())
    return pages, free


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patrons", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--dir", type=Path, help="folder for the store (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        options = StoreOptions(
            database=Path(folder) / "bench.db", key_file=Path(folder) / "bench.key"
        )
        store = create_store(options, CirculationRules(), CHEAP, now=NOW)
        try:
            started = time.perf_counter()
            populate(store, args.patrons)
            with store.read() as uow:
                history = uow.session.scalar(select(func.count(ReadingHistory.id))) or 0
            setup = time.perf_counter() - started
            before = size_of(options.database)
            pages_before = page_counts(store)

            started = time.perf_counter()
            report = purge(store, NOW, RetentionRules(), batch_size=args.batch_size)
            elapsed = time.perf_counter() - started

            after = size_of(options.database)
            pages_after = page_counts(store)
        finally:
            store.close()
    for name, value in machine():
        print(f"{name:22} {value}")
    print(f"{'patrons':22} {args.patrons:,} (plus {history:,} reading history rows)")
    print(f"{'batch size':22} {args.batch_size:,}")
    print(f"{'setup (bulk insert)':22} {setup:.1f} s")
    print(f"{'purge':22} {elapsed:.1f} s")
    print(f"{'patrons removed':22} {report.patrons:,}")
    print(f"{'history rows removed':22} {report.reading_history:,} (by the history rule)")
    print(f"{'patrons/s':22} {report.patrons / elapsed:,.0f}")
    print(f"{'db + wal before':22} {before / 2**20:.1f} MiB ({pages_before[0]:,} pages)")
    print(
        f"{'db + wal after':22} {after / 2**20:.1f} MiB "
        f"({pages_after[0]:,} pages, {pages_after[1]:,} free and zeroed)"
    )
    print(f"{'wal truncated':22} {report.wal_truncated}")


if __name__ == "__main__":
    main()
