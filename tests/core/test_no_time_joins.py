"""No time in the store joins a patron to an item once loans, holds and fees are over (PRIV-03).

Every date and time column of every table is compared by equality with every item-side one,
straight from the metadata, so a new column cannot slip past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Date, DateTime, Table, TypeDecorator, func, select

from core.model import Base, Fee, FeeStatus
from core.services import circulation, fees, holds
from core.services.actors import terminal_actor
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

KIOSK = terminal_actor("kiosk1", "main")
ITEM_TABLES = ("items", "records")  # about things; every other table may name a person


def _is_time(column: Column[object]) -> bool:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, (Date, DateTime))


def time_columns(tables: Iterator[Table]) -> list[Column[object]]:
    return [column for table in tables for column in table.columns if _is_time(column)]


def joins(store: Store) -> list[str]:
    """Every pair of an item-side and another time column with equal values in some rows."""
    tables = Base.metadata.sorted_tables
    item_side = time_columns(t for t in tables if t.name in ITEM_TABLES)
    others = time_columns(t for t in tables if t.name not in ITEM_TABLES)
    assert item_side and others  # the comparison is not empty by accident
    found = []
    with store.read() as uow:
        for item_column in item_side:
            for other in others:
                query = (
                    select(func.count())
                    .select_from(item_column.table)
                    .join(other.table, other == item_column)
                )
                if uow.session.scalar(query):
                    found.append(f"{other} = {item_column}")
    return found


@pytest.fixture
def lib(store: Store) -> Store:
    add_record_with_items(store, "A Film", ["V1"], media_type="video")
    add_patron(store, "P1")
    add_patron(store, "P2", given="Grace", family="Hopper")
    return store


# Each request comes with its own moment, as on a real server.
LENT = NOW - dt.timedelta(days=10, microseconds=-4711)
RETURNED = NOW + dt.timedelta(seconds=2, microseconds=123)
PAID = NOW + dt.timedelta(minutes=7, microseconds=987)


@pytest.mark.parametrize("trapped", [False, True], ids=["shelved", "trapped for a hold"])
def test_after_return_and_payment_no_time_joins_a_patron_to_the_item(
    lib: Store, trapped: bool
) -> None:
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, LENT, "P1", "V1")
    if trapped:  # the copy then waits on the hold shelf for someone else
        with lib.write() as uow:
            holds.place_hold(uow, KIOSK, LENT + dt.timedelta(hours=1), "P2", item_barcode="V1")
    with lib.write() as uow:
        back = circulation.checkin(uow, KIOSK, RETURNED, "V1")
    assert back.fine > 0 and back.hold_trapped is trapped
    with lib.write() as uow:
        paid = fees.pay_fees(uow, KIOSK, PAID, "P1", back.fine)
    assert paid.outstanding == 0
    assert joins(lib) == []
    with lib.read() as uow:
        fee = uow.session.scalars(select(Fee)).one()
        assert fee.status == FeeStatus.PAID.value and fee.item_id is None
        # The fee and its payment keep the day only.
        assert fee.created_at == dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
        assert fee.settled_at == dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
