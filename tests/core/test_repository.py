"""The store's repository: typed rows, portable statements, and ORM state kept in step."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, select

from core.errors import StoreError
from core.model import Fee, Item, Loan, Patron
from core.services.actors import terminal_actor
from core.services.circulation import checkin, checkout
from core.services.items import find_item
from core.services.patrons import patron_detail
from core.store import repository
from core.store.engine import Prepared
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

KIOSK = terminal_actor("kiosk1", "main")


@pytest.fixture
def library(store: Store) -> Store:
    add_patron(store, "P1")
    add_record_with_items(store, "A Title", ["I1", "I2"])
    return store


def test_prepared_rows_convert_like_the_orm(library: Store) -> None:
    with library.write() as uow:
        checkout(uow, KIOSK, NOW, "P1", "I1")
    due = Prepared(select(Loan.due_at, Loan.renewals).where(Loan.item_id == bindparam("item")))
    with library.read() as uow:
        item_id = uow.session.scalar(select(Item.id).where(Item.barcode == "I1"))
        rows = due.all(uow.session, {"item": item_id})
        orm = uow.session.scalars(select(Loan)).one()
    assert rows == [(orm.due_at, 0)]
    assert rows[0][0].tzinfo is dt.UTC  # UTCDateTime's result processing ran


def test_prepared_refuses_an_expanding_in(library: Store) -> None:
    query = Prepared(select(Item.id).where(Item.barcode.in_(["I1", "I2"])))
    with library.read() as uow, pytest.raises(StoreError):
        query.all(uow.session, {})


def test_orm_objects_in_the_same_unit_of_work_see_the_prepared_writes(library: Store) -> None:
    with library.write() as uow:
        item = uow.session.scalars(select(Item).where(Item.barcode == "I1")).one()
        patron = uow.session.scalars(select(Patron).where(Patron.barcode == "P1")).one()
        later = NOW + dt.timedelta(days=3)
        result = checkout(uow, KIOSK, later, "P1", "I1")
        assert item.status == "on_loan" == result.item.status  # expired, then reloaded
        assert patron.last_activity_on == later.date()
        loan = uow.session.scalars(select(Loan)).one()
        assert loan.due_at == result.due_at
        back = checkin(uow, KIOSK, later + dt.timedelta(days=60), "I1")
        assert back.was_on_loan and back.fine > 0
        assert item.status == "available"
        assert uow.session.scalars(select(Loan)).all() == []
        fee = uow.session.scalars(select(Fee)).one()
        assert (fee.kind, fee.amount, fee.balance, fee.status) == (
            "overdue",
            back.fine,
            back.fine,
            "open",
        )


def test_pending_orm_changes_are_seen_by_prepared_reads(library: Store) -> None:
    with library.write() as uow:
        item = uow.session.scalars(select(Item).where(Item.barcode == "I2")).one()
        item.location = "new books"  # not flushed yet
        assert find_item(uow, KIOSK, NOW, "I2").location == "new books"


def test_patron_detail_lists_loans_and_fees_from_prepared_rows(library: Store) -> None:
    with library.write() as uow:
        checkout(uow, KIOSK, NOW, "P1", "I1")
        checkout(uow, KIOSK, NOW - dt.timedelta(days=90), "P1", "I2")
        checkin(uow, KIOSK, NOW, "I2")  # overdue: leaves a fine
    with library.read() as uow:
        detail = patron_detail(uow, KIOSK, NOW, "P1")
    assert [(loan.item_barcode, loan.title, loan.overdue) for loan in detail.loans] == [
        ("I1", "A Title", False)
    ]
    assert [(fee.kind, fee.title, fee.status) for fee in detail.fees] == [
        ("overdue", "A Title", "open")
    ]
    assert detail.patron.loans == 1 and detail.patron.fees_outstanding == detail.fees[0].balance


def _statements() -> list[tuple[str, Prepared]]:
    found = []
    for name, value in vars(repository).items():
        prepared = getattr(value, "_prepared", None)
        if isinstance(prepared, Prepared):
            found.append((name, prepared))
    return found


def test_every_statement_compiles_for_postgresql_too() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    statements = _statements()
    assert len(statements) > 20
    for name, prepared in statements:
        for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
            plan = prepared._plan(dialect)
            assert plan.sql, name
            assert "POSTCOMPILE" not in plan.sql, name


def test_rows_are_read_by_name(library: Store) -> None:
    with library.write() as uow:
        checkout(uow, KIOSK, NOW, "P1", "I1")
    with library.read() as uow:
        patron = repository.find_patron(uow, "P1", NOW)
        item = repository.find_item_for_return(uow, "I1")
        assert repository.find_item(uow, "nothing") is None
    assert patron is not None and item is not None
    assert (patron.barcode, patron.loans, patron.overdue, patron.open_fees) == ("P1", 1, 0, 0)
    assert item.loan_patron_id == patron.id and item.borrower_category == "adult"
    assert (item.title, item.status, item.holds_on_record) == ("A Title", "on_loan", 0)


def test_last_activity_only_moves_forward(library: Store) -> None:
    with library.write() as uow:
        patron = repository.find_patron(uow, "P1", NOW)
        assert patron is not None
        repository.touch_patron(uow, patron.id, NOW.date() - dt.timedelta(days=400))
        repository.touch_patron(uow, patron.id, NOW.date() + dt.timedelta(days=1))
        repository.touch_patron(uow, patron.id, NOW.date())
    with library.read() as uow:
        days = uow.session.scalars(select(Patron.last_activity_on)).all()
    assert days == [NOW.date() + dt.timedelta(days=1)]
