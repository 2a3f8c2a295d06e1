"""The desk's name search on a shared store: whole name words by keyed hash (PRIV-08)."""

from __future__ import annotations

from sqlalchemy import text

from core.model import StaffUser
from core.privacy.policy import publish_policy
from core.privacy.training import acknowledge_training
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.services.search import search_patrons
from core.store.uow import Store
from tests.conftest import NOW, add_patron

CLERK = Actor(ActorKind.STAFF, "clerk", Role.CIRCULATION)


def _desk(store: Store) -> None:
    with store.write() as uow:
        uow.session.add(
            StaffUser(username="clerk", role="circulation", password_hash="x", created_at=NOW)
        )
        publish_policy(uow, local_admin(), NOW, "We keep little.", "2026-1", NOW.date())
    with store.write() as uow:
        acknowledge_training(uow, local_admin(), NOW, "clerk")
    add_patron(store, "P1", given="Ada", family="Lovelace-Byron")
    add_patron(store, "P2", given="Adam", family="Lovell")
    add_patron(store, "P3", given="Grace", family="van der Berg")


def _found(store: Store, query: str) -> list[str]:
    with store.write() as uow:
        return [m.barcode for m in search_patrons(uow, CLERK, NOW, query).matches]


def test_whole_name_words_find_patrons(pg_store: Store) -> None:
    _desk(pg_store)
    assert _found(pg_store, "ada") == ["P1"]  # a word, not a prefix: Adam is not found
    assert sorted(_found(pg_store, "ADAM lovell")) == ["P2"]
    assert _found(pg_store, "byron") == ["P1"]  # a part of a hyphenated name
    assert _found(pg_store, "Lovelace-Byron") == ["P1"]
    assert _found(pg_store, "berg grace") == ["P3"]
    assert _found(pg_store, "Love") == []
    with pg_store.engine.connect() as conn:
        stored = conn.execute(text("SELECT family_name FROM patrons ORDER BY id")).scalars().all()
    assert all("love" not in value.casefold() and "berg" not in value for value in stored)
    assert stored[0].count(";") == 3  # lovelace-byron, lovelace, byron
