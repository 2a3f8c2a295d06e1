"""One view of a hold: placing, changing and listing a hold name the same copy."""

from __future__ import annotations

import pytest

from core.services import circulation, holds, patrons
from core.services.actors import terminal_actor
from core.services.views import HoldView
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

KIOSK = terminal_actor("kiosk1", "main")


@pytest.fixture
def lib(store: Store) -> Store:
    add_record_with_items(store, "A Book", ["B1", "B2"])
    add_patron(store, "P1")
    add_patron(store, "P2", given="Grace", family="Hopper")
    with store.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "B1")
        circulation.checkout(uow, KIOSK, NOW, "P1", "B2")
    return store


def listed(store: Store, barcode: str) -> HoldView:
    with store.read() as uow:
        (view,) = patrons.patron_detail(uow, KIOSK, NOW, barcode).holds
    return view


def test_a_title_hold_names_the_copy_set_aside_for_it_everywhere(lib: Store) -> None:
    with lib.write() as uow:
        placed = holds.place_hold(uow, KIOSK, NOW, "P2", item_barcode="B1")
    assert placed.item_barcode is None  # any copy will do
    assert listed(lib, "P2") == placed
    with lib.write() as uow:
        circulation.checkin(uow, KIOSK, NOW, "B2")  # the copy that came back first
    with lib.write() as uow:
        changed = holds.change_hold(uow, KIOSK, NOW, "P2", item_barcode="B1")
    assert changed.item_barcode == "B2" and changed.status == "on_shelf"
    assert listed(lib, "P2") == changed


def test_an_item_hold_names_its_copy_everywhere(lib: Store) -> None:
    with lib.write() as uow:
        placed = holds.place_hold(uow, KIOSK, NOW, "P2", item_barcode="B2", item_level=True)
    assert placed.item_barcode == "B2"
    assert listed(lib, "P2") == placed
    with lib.write() as uow:
        changed = holds.change_hold(uow, KIOSK, NOW, "P2", item_barcode="B2", pickup_branch="main")
    assert changed == placed
