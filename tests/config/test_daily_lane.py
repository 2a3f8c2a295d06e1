"""The daily jobs never hold the database lane for a whole purge: SIP2 answers come between
its batches, and notices are delivered off the lane (DESIGN: process model)."""

from __future__ import annotations

import datetime as dt
import functools
import math
from pathlib import Path

import pytest
import trio
from sqlalchemy import insert

from config.bootstrap import build_store
from config.daily import daily_jobs
from config.settings import Settings
from config.settings_retention import RetentionSettings
from core.model import Base, Patron
from core.store.uow import Store
from sip2.client import Sip2Client
from sip2.codec import ItemInformation
from sip2.handlers import HandlerContext, HandlerOptions, Sip2Handlers
from sip2.server import DatabaseExecutor, Listener, serve_sip2
from tests.conftest import NOW, add_record_with_items
from tests.sip2.conftest import ITEMS, LOCAL_NOW, LOOPBACK, PASSWORD, TERMINAL, add_terminal

EXPIRED_PATRONS = 6000
BATCH = 200


def _expired_patrons(store: Store) -> None:
    rows = [
        {
            "barcode": f"X{n:06d}",
            "given_name": "Gone",
            "family_name": "Patron",
            "category": "adult",
            "home_branch": "main",
            "expires_on": dt.date(2020, 1, 1),
            "created_on": dt.date(2019, 1, 1),
            "last_activity_on": dt.date(2019, 1, 1),
        }
        for n in range(EXPIRED_PATRONS)
    ]
    with store.write() as uow:
        uow.session.execute(insert(Base.metadata.tables[Patron.__tablename__]), rows)


@pytest.mark.trio
async def test_sip2_answers_between_purge_batches(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, retention=RetentionSettings(batch_size=BATCH))
    store: Store = build_store(settings, create=True, now=NOW)
    try:
        add_terminal(store)
        add_record_with_items(store, "A Book", list(ITEMS))
        _expired_patrons(store)
        database = DatabaseExecutor(store)
        handlers = Sip2Handlers(HandlerContext(store, HandlerOptions()))
        answered: list[float] = []
        span: list[float] = []
        async with trio.open_nursery() as nursery:
            serve = functools.partial(
                serve_sip2, handlers, [Listener(LOOPBACK, 0)], clock=lambda: NOW, database=database
            )
            bound: list[tuple[str, int]] = await nursery.start(serve)
            host, port = bound[0]
            async with await Sip2Client.connect(host, port) as client:
                assert await client.login(TERMINAL, PASSWORD)
                request = ItemInformation(
                    transaction_date=LOCAL_NOW, institution_id="main", item_id=ITEMS[0]
                )
                done = trio.Event()

                async def run_daily() -> None:
                    span.append(trio.current_time())
                    lines = await daily_jobs(settings, store, database, NOW)
                    span.append(trio.current_time())
                    assert f"patrons={EXPIRED_PATRONS}" in " ".join(lines)
                    done.set()

                nursery.start_soon(run_daily)
                while not done.is_set():
                    await client.request(request)
                    answered.append(trio.current_time())
            nursery.cancel_scope.cancel()
    finally:
        store.close()
    start, end = span
    during = [t for t in answered if start <= t <= end]
    gaps = [b - a for a, b in zip([start, *during], [*during, end], strict=True)]
    batches = math.ceil(EXPIRED_PATRONS / BATCH)
    # A whole purge held the lane before: one gap as long as the run. Now the longest wait is
    # about one batch (one transaction), so many answers arrive while it runs.
    assert len(during) >= batches // 2
    assert max(gaps) < (end - start) / 5
