"""Two appliances on one database: the database, not timing, decides who gets the last copy."""

from __future__ import annotations

import threading

import psycopg
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.model import Loan
from core.policy.rules import CirculationRules
from core.services import circulation
from core.services.actors import terminal_actor
from core.store.open import StoreOptions, open_store
from core.store.uow import Store
from tests.conftest import FAST_ARGON2, NOW, add_patron, add_record_with_items


def test_one_item_checked_out_at_two_branches_gives_one_loan(
    pg_store: Store, pg_store_options: StoreOptions
) -> None:
    add_record_with_items(pg_store, "Last Copy", ["I1"])
    add_patron(pg_store, "P1")
    add_patron(pg_store, "P2")
    other = open_store(pg_store_options, CirculationRules(), FAST_ARGON2)  # a second appliance
    first_in = threading.Event()
    outcomes: list[str] = []

    def second() -> None:
        first_in.wait(5)
        try:
            with other.write() as uow:
                circulation.checkout(uow, terminal_actor("k2", "east"), NOW, "P2", "I1")
            outcomes.append("lent")
        except (IntegrityError, psycopg.errors.UniqueViolation) as exc:
            # The request path runs on the driver's cursor: the driver's own error arrives.
            assert "uq_loans_item_id" in str(exc)
            outcomes.append("refused by the one-open-loan constraint")

    try:
        thread = threading.Thread(target=second)
        thread.start()
        with pg_store.write() as uow:
            circulation.checkout(uow, terminal_actor("k1", "main"), NOW, "P1", "I1")
            uow.session.flush()
            first_in.set()  # the second appliance now tries while this loan is uncommitted
            thread.join(0.5)
        thread.join(10)
        assert outcomes == ["refused by the one-open-loan constraint"]
        with pg_store.read() as uow:
            assert uow.session.scalar(select(func.count(Loan.id))) == 1
    finally:
        other.close()
