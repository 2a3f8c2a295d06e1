"""Holds lapse: requests past their date, hold-shelf periods past theirs; the copy moves on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.model import Hold, HoldStatus, Item, ItemStatus, Patron
from core.model.retention import DestructionLedgerEntry
from core.policy.retention import RetentionRules
from core.privacy.purge import purge
from core.services import circulation, holds
from core.services.actors import local_admin
from core.services.hold_expiry import expire_holds
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

ADMIN = local_admin()
DAY = dt.timedelta(days=1)


def _expire(store: Store, at: dt.datetime, limit: int = 100) -> tuple[int, int, int]:
    with store.write() as uow:
        report = expire_holds(uow, at, limit=limit)
    return report.requests_lapsed, report.shelf_lapsed, report.retrapped


def _holds(store: Store) -> list[tuple[int, str]]:
    with store.read() as uow:
        return [tuple(r) for r in uow.session.execute(select(Hold.patron_id, Hold.status))]  # type: ignore[misc]


def _item_status(store: Store, barcode: str) -> str:
    with store.read() as uow:
        return str(uow.session.scalar(select(Item.status).where(Item.barcode == barcode)))


def _trap_for_first_in_line(store: Store) -> tuple[int, int]:
    """Two patrons in line for one title; its copy comes back and is shelved for the first."""
    record = add_record_with_items(store, "Wanted", ["W-1"])
    first, second = add_patron(store, "FIRST"), add_patron(store, "SECOND")
    add_patron(store, "BORROWER")
    with store.write() as uow:
        circulation.checkout(uow, ADMIN, NOW, "BORROWER", "W-1")
    for barcode in ("FIRST", "SECOND"):
        with store.write() as uow:
            holds.place_hold(uow, ADMIN, NOW, barcode, record_id=record)
    with store.write() as uow:
        assert circulation.checkin(uow, ADMIN, NOW + DAY, "W-1").on_hold_shelf
    return first, second


def test_a_hold_shelf_period_that_passed_sets_the_copy_aside_for_the_next_in_line(
    store: Store,
) -> None:
    first, second = _trap_for_first_in_line(store)
    assert (first, HoldStatus.ON_SHELF.value) in _holds(store)
    assert _expire(store, NOW + 3 * DAY) == (0, 0, 0)  # the shelf period has not passed

    assert _expire(store, NOW + 30 * DAY) == (0, 1, 1)

    assert _holds(store) == [(second, HoldStatus.ON_SHELF.value)]
    assert _item_status(store, "W-1") == ItemStatus.ON_HOLD_SHELF.value
    with store.read() as uow:  # no restore brings the lapsed hold back
        assert uow.session.scalar(select(func.count(DestructionLedgerEntry.id))) >= 1


def test_the_last_lapsed_hold_puts_the_copy_back_on_the_shelf(store: Store) -> None:
    _trap_for_first_in_line(store)
    assert _expire(store, NOW + 30 * DAY) == (0, 1, 1)
    assert _expire(store, NOW + 60 * DAY) == (0, 1, 0)
    assert _holds(store) == []
    assert _item_status(store, "W-1") == ItemStatus.AVAILABLE.value


def test_a_request_past_its_date_lapses_and_no_longer_keeps_its_patron(store: Store) -> None:
    record = add_record_with_items(store, "Wanted", ["W-1", "W-2"])
    for copy in ("W-1", "W-2"):
        add_patron(store, f"B-{copy}")
        with store.write() as uow:
            circulation.checkout(uow, ADMIN, NOW, f"B-{copy}", copy)
    old = add_patron(store, "OLD")
    add_patron(store, "LATER")
    with store.write() as uow:
        holds.place_hold(uow, ADMIN, NOW, "OLD", record_id=record, expires_at=NOW + DAY)
        holds.place_hold(uow, ADMIN, NOW, "LATER", record_id=record, expires_at=NOW + 90 * DAY)
    with store.write() as uow:  # the card has long expired since
        patron = uow.session.get_one(Patron, old)
        patron.expires_on = patron.last_activity_on = dt.date(2020, 1, 1)
    assert purge(store, NOW + 2 * DAY, RetentionRules()).patrons == 0  # the hold keeps OLD

    assert _expire(store, NOW + 2 * DAY, limit=1) == (1, 0, 0)
    assert _expire(store, NOW + 2 * DAY, limit=1) == (0, 0, 0)
    assert len(_holds(store)) == 1  # the later hold is still waiting
    assert purge(store, NOW + 2 * DAY, RetentionRules()).patrons == 1
    with store.read() as uow:
        assert uow.session.scalar(select(Patron.id).where(Patron.barcode == "OLD")) is None
