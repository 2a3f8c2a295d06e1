"""The encrypted store against a real SQLCipher file (PRIV-08)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from core.errors import KeyFileError, StoreError, WrongKeyError
from core.model import Base, column_annotations
from core.policy.rules import CirculationRules
from core.store.migrate import current_revision, head_revision
from core.store.open import StoreOptions, open_store
from core.store.uow import Store
from tests.conftest import FAST_ARGON2, add_patron

MARKER = "Zebulon-Quixotic-Marker"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_is_migrated_to_head(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {"patrons", "items", "loans", "audit_events"} <= tables


def test_every_column_carries_a_privacy_annotation() -> None:
    missing = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column_annotations(column) is None
    ]
    assert missing == []


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_plain_sqlite_cannot_read_the_file(store: Store, store_options: StoreOptions) -> None:
    add_patron(store, "P1", given=MARKER)
    conn = sqlite3.connect(store_options.database)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT name FROM sqlite_master").fetchall()
    conn.close()


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_no_plaintext_in_database_or_wal(store: Store, store_options: StoreOptions) -> None:
    add_patron(store, "P1", given=MARKER)
    wal = store_options.database.with_name(store_options.database.name + "-wal")
    assert wal.exists()  # the write is still in the WAL: check those bytes too
    for path in (store_options.database, wal):
        data = path.read_bytes()
        assert MARKER.encode() not in data
        assert b"SQLite format 3" not in data
    store.close()
    assert MARKER.encode() not in store_options.database.read_bytes()


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_wrong_key_is_refused_and_file_unchanged(store: Store, store_options: StoreOptions) -> None:
    add_patron(store, "P1")
    store.close()
    before = _digest(store_options.database)
    listing = sorted(os.listdir(store_options.database.parent))
    store_options.key_file.chmod(0o600)
    store_options.key_file.write_text(os.urandom(32).hex() + "\n")
    with pytest.raises(WrongKeyError, match="key"):
        open_store(store_options, CirculationRules(), FAST_ARGON2)
    assert _digest(store_options.database) == before
    assert sorted(os.listdir(store_options.database.parent)) == listing


def test_a_plain_sqlite_file_is_not_taken_for_a_store(
    tmp_path: Path, store_options: StoreOptions
) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    before = _digest(other)
    opts = StoreOptions(database=other, key_file=tmp_path / "k")
    (tmp_path / "k").write_text(os.urandom(32).hex())
    (tmp_path / "k").chmod(0o600)
    with pytest.raises(WrongKeyError):
        open_store(opts, CirculationRules(), FAST_ARGON2)
    assert _digest(other) == before


def test_key_file_readable_by_others_is_refused(store: Store, store_options: StoreOptions) -> None:
    store.close()
    store_options.key_file.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        open_store(store_options, CirculationRules(), FAST_ARGON2)


def test_missing_database_is_an_error(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_text(os.urandom(32).hex())
    key.chmod(0o600)
    with pytest.raises(StoreError, match="reticent init"):
        open_store(StoreOptions(tmp_path / "none.db", key), CirculationRules(), FAST_ARGON2)
    assert not (tmp_path / "none.db").exists()


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_connection_pragmas(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_reopen_with_the_right_key(store: Store, store_options: StoreOptions) -> None:
    add_patron(store, "P1")
    store.close()
    reopened = open_store(store_options, CirculationRules(), FAST_ARGON2)
    with reopened.read() as uow:
        assert uow.session.execute(text("SELECT count(*) FROM patrons")).scalar() == 1
    reopened.close()
