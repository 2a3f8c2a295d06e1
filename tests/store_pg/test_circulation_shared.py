"""The one request path (repository of named operations) on a shared PostgreSQL store."""

from __future__ import annotations

from core.services import circulation, patrons
from core.services.actors import terminal_actor
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

KIOSK = terminal_actor("kiosk1", "main")


def test_checkout_and_checkin_on_postgresql(pg_store: Store) -> None:
    add_record_with_items(pg_store, "Shared Title", ["I1"])
    add_patron(pg_store, "P1", given="Ada")
    with pg_store.write() as uow:
        out = circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
    assert out.due_at > NOW
    with pg_store.read() as uow:
        view = patrons.find_patron(uow, KIOSK, NOW, "P1")
    assert view.loans == 1 and view.given_name == "Ada"
    with pg_store.write() as uow:
        circulation.checkin(uow, KIOSK, NOW, "I1")
    with pg_store.read() as uow:
        assert patrons.find_patron(uow, KIOSK, NOW, "P1").loans == 0
