"""Key rotation: data and pseudonyms survive, the old key is refused afterwards (PRIV-08)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import select

from core.errors import WrongKeyError
from core.model import AuditEvent, Instance, Patron
from core.policy.retention import RetentionRules
from core.policy.rules import CirculationRules
from core.privacy.backup import BackupError, backup, raw_connection, restore
from core.privacy.keyring import (
    prune_retired_keys,
    recorded_key_id,
    retired_folder,
    retired_keys,
)
from core.privacy.rekey import rekey
from core.security.keys import key_id, load_key
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
    assert sorted(p.name for p in folder.iterdir() if ".key" in p.name) == [
        "reticent.key",
        "reticent.key.retired",
    ]
    retired = retired_folder(store_options.key_file)
    assert retired.stat().st_mode & 0o777 == 0o700
    [kept] = retired.iterdir()
    assert kept.name == f"{key_id(old_key)}.key" and kept.stat().st_mode & 0o777 == 0o600
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
    explicit = store_options.database.parent / "explicit.db"
    shutil.copy(old_backup, explicit)

    # PRIV-07/08: no extra option: the backup records its key id, the retired key opens it.
    assert recorded_key_id(old_backup, old_key) == key_id(old_key)
    restore(store_options, old_backup, RetentionRules(), NOW)
    restore(store_options, explicit, RetentionRules(), NOW, backup_key=old_key)

    reopened = reopen(store_options)  # re-encrypted with the current key
    try:
        with reopened.read() as uow:
            assert uow.session.scalars(select(Patron.barcode)).all() == ["P1"]
            recorded = uow.session.scalar(select(Instance.key_id))
        assert recorded == key_id(load_key(store_options.key_file))
    finally:
        reopened.close()


def test_backups_from_two_rotations_ago_restore(store: Store, store_options: StoreOptions) -> None:
    add_patron(store, "P1")
    first = store_options.database.parent / "first.db"
    backup(store, load_key(store_options.key_file), first, now=NOW)
    store.close()
    rekey(store_options.database, store_options.key_file, now=NOW)
    rekey(store_options.database, store_options.key_file, now=NOW)
    assert len(retired_keys(store_options.key_file)) == 2
    restore(store_options, first, RetentionRules(), NOW)
    reopen(store_options).close()


def test_a_retired_key_lives_until_retention_deleted_its_last_backup(
    store: Store, store_options: StoreOptions
) -> None:
    add_patron(store, "P1")
    folder = store_options.database.parent / "backups"
    folder.mkdir()
    old_key = load_key(store_options.key_file)
    backup(store, old_key, folder / "b1.db", now=NOW)
    store.close()
    rules = RetentionRules()
    rekey(store_options.database, store_options.key_file, now=NOW)
    [retired] = retired_keys(store_options.key_file)
    later = retired.retired_at + rules.shortest_period() + dt.timedelta(days=1)

    # Within retention: kept, whatever the backup folder holds (a backup may be elsewhere).
    assert prune_retired_keys(store_options.key_file, folder, retired.retired_at, rules) == 0
    (folder / "b1.db").unlink()
    assert prune_retired_keys(store_options.key_file, folder, retired.retired_at, rules) == 0
    # Past retention, but a backup in the folder still needs it: kept.
    store = reopen(store_options)
    backup(store, load_key(store_options.key_file), folder / "b2.db", now=NOW)
    store.close()
    with raw_connection(folder / "b2.db", load_key(store_options.key_file)) as conn:
        conn.execute(f"PRAGMA rekey = \"x'{old_key.hex()}'\"")  # made with the retired key
    assert prune_retired_keys(store_options.key_file, folder, later, rules) == 0
    (folder / "b2.db").unlink()
    assert prune_retired_keys(store_options.key_file, folder, later, rules) == 1
    assert retired_keys(store_options.key_file) == []


# The SQLCipher file, its WAL and its key (shared stores: tests/store_pg/).
pytestmark = pytest.mark.sqlcipher_only
