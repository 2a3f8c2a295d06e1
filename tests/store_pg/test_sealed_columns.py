"""PRIV-08 on a shared PostgreSQL store: a database administrator's dump names no patron."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from core.errors import WrongKeyError
from core.model import Patron
from core.privacy.export import export_as_json, export_patron
from core.security.columns import ColumnCipher
from core.services import patrons
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.store.open import StoreOptions
from core.store.uow import Store
from tests import pg_support
from tests.conftest import NOW, add_patron

OFFICER = Actor(ActorKind.STAFF, "pia", Role.PRIVACY_OFFICER)
FIXTURE_PATRONS = (
    # barcode, given, family, e-mail, phone, note
    (
        "29000000000017",
        "Ada",
        "Lovelace",
        "ada.lovelace@example.org",
        "555-0117",
        "prefers large print",
    ),
    (
        "29000000000025",
        "Grace",
        "Hopper",
        "grace.hopper@example.net",
        "555-0125",
        "guardian: Walter",
    ),
)


def _register(store: Store) -> None:
    for barcode, given, family, email, phone, note in FIXTURE_PATRONS:
        patron_id = add_patron(store, barcode, given=given, family=family)
        with store.write() as uow:
            patron = uow.session.get(Patron, patron_id)
            assert patron is not None
            patron.email, patron.phone, patron.note = email, phone, note


def test_dump_holds_no_name_contact_note_or_barcode(
    pg_store: Store, pg_store_options: StoreOptions, pg_cluster: pg_support.Cluster
) -> None:
    _register(pg_store)
    database = pg_store.engine.url.database
    assert database is not None
    dump = pg_cluster.dump(database).casefold()
    assert "copy public.patrons" in dump  # the rows are in the dump, only sealed
    for row in FIXTURE_PATRONS:
        for value in row:
            assert value.casefold() not in dump
    # The instance secret is wrapped by the local key file: the dump cannot unseal anything.
    with pg_store.engine.connect() as conn:
        stored = conn.execute(text("SELECT secret FROM instance")).scalar()
    assert isinstance(stored, str) and stored.startswith("w1:")


def test_export_and_lookups_see_the_real_values(pg_store: Store) -> None:
    _register(pg_store)
    barcode, given, family, email, phone, note = FIXTURE_PATRONS[0]
    with pg_store.write() as uow:
        view = patrons.find_patron(uow, local_admin(), NOW, barcode)
        export = export_patron(uow, OFFICER, NOW, barcode)
    assert (view.given_name, view.family_name, view.email) == (given, family, email)
    exported = json.loads(export_as_json(export))
    text_form = json.dumps(exported)
    for value in (barcode, given, family, email, phone, note):
        assert value in text_form


def test_equal_barcodes_seal_equally_names_never(pg_store: Store) -> None:
    _register(pg_store)
    with pg_store.engine.connect() as conn:
        rows = conn.execute(text("SELECT barcode, given_name FROM patrons ORDER BY id")).all()
    cipher = ColumnCipher(b"\x01" * 32)
    assert all(row.barcode.startswith(f"{cipher.key_id}:") for row in rows)
    assert cipher.seal("Ada", b"patron.given_name") != cipher.seal("Ada", b"patron.given_name")
    assert cipher.seal_lookup("P1", b"patron.barcode") == cipher.seal_lookup(
        "P1", b"patron.barcode"
    )
    # A unique barcode is still unique on its sealed form.
    with pytest.raises(Exception, match="uq_patrons_barcode"):
        add_patron(pg_store, FIXTURE_PATRONS[0][0], given="Other")


def test_value_moved_to_another_column_does_not_open(pg_store: Store) -> None:
    _register(pg_store)
    with pg_store.engine.begin() as conn:
        # What a database administrator could do: copy one sealed column into another.
        conn.execute(text("UPDATE patrons SET family_name = given_name"))
    with pytest.raises(WrongKeyError), pg_store.read() as uow:
        uow.session.scalars(select(Patron.family_name)).all()
