"""Key rotation: data and pseudonyms survive, the old key is refused afterwards (PRIV-08)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import WrongKeyError
from core.model import AuditEvent, Patron
from core.policy.retention import RetentionRules
from core.policy.rules import CirculationRules
from core.privacy.backup import BackupError, backup, raw_connection, restore
from core.privacy.rekey import rekey
from core.security.keys import load_key
from core.store.engine import check_store
from core.store.open import StoreOptions, open_store
from core.store.uow import Store
from tests.conftest import FAST_ARGON2, NOW, add_patron


def reopen(options: StoreOptions) -> Store:
    return open_store(options, CirculationRules(), FAST_ARGON2)


def test_rekey_keeps_data_and_pseudonyms_and_refuses_the_old_key(
    store: Store, store_options: StoreOptions
) -> None:
    pid = add_patron(store, "P1", given="Rekey-Marker")
    pseudonym = store.env.pseudonyms.patron(pid)
    store.close()
    old_key = load_key(store_options.key_file)

    report = rekey(store_options.database, store_options.key_file, now=NOW)

    assert not report.resumed
    new_key = load_key(store_options.key_file)
    assert new_key != old_key
    assert store_options.key_file.stat().st_mode & 0o777 == 0o600
    folder = store_options.key_file.parent
    assert sorted(p.name for p in folder.iterdir() if ".key" in p.name) == ["reticent.key"]
    with pytest.raises(WrongKeyError):
        check_store(store_options.database, old_key)
    reopened = reopen(store_options)
    try:
        assert reopened.env.pseudonyms.patron(pid) == pseudonym  # PRIV-15: the log still links
        with reopened.read() as uow:
            assert uow.session.scalars(select(Patron.given_name)).all() == ["Rekey-Marker"]
            actions = uow.session.scalars(select(AuditEvent.action)).all()
        assert "store.rekey" in actions
    finally:
        reopened.close()


def test_rekey_refuses_while_the_database_is_in_use(
    store: Store, store_options: StoreOptions
) -> None:
    add_patron(store, "P1")
    before = store_options.key_file.read_bytes()
    with pytest.raises(BackupError, match="in use"):
        rekey(store_options.database, store_options.key_file, now=NOW)
    assert store_options.key_file.read_bytes() == before


def test_an_interrupted_rekey_is_completed_from_the_new_key_file(
    store: Store, store_options: StoreOptions
) -> None:
    add_patron(store, "P1")
    store.close()
    old_key = load_key(store_options.key_file)
    # Simulate a crash after the database was re-encrypted, before the key file was replaced.
    new_key = bytes(range(32))
    new_file = store_options.key_file.with_name("reticent.key.new")
    new_file.write_text(new_key.hex() + "\n")
    new_file.chmod(0o600)
    with raw_connection(store_options.database, old_key) as conn:
        conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")

    report = rekey(store_options.database, store_options.key_file, now=NOW)

    assert report.resumed and load_key(store_options.key_file) == new_key
    assert not new_file.exists()
    reopened = reopen(store_options)
    reopened.close()


def test_a_backup_made_before_a_rekey_restores_with_its_key(
    store: Store, store_options: StoreOptions
) -> None:
    add_patron(store, "P1")
    old_key = load_key(store_options.key_file)
    old_backup = store_options.database.parent / "before-rekey.db"
    backup(store, old_key, old_backup, now=NOW)
    store.close()
    rekey(store_options.database, store_options.key_file, now=NOW)

    with pytest.raises(WrongKeyError, match="does not open with the store key"):
        restore(store_options, old_backup, RetentionRules(), NOW)
    restore(store_options, old_backup, RetentionRules(), NOW, backup_key=old_key)

    reopened = reopen(store_options)  # re-encrypted with the current key
    try:
        with reopened.read() as uow:
            assert uow.session.scalars(select(Patron.barcode)).all() == ["P1"]
    finally:
        reopened.close()
