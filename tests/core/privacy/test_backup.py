"""Encrypted backups and restores that never bring a purged patron back (PRIV-07, PRIV-08)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select

from core.audit import verify_chain
from core.errors import WrongKeyError
from core.model import Instance, Item, ItemStatus, Loan, Patron
from core.model.retention import PurgeLedgerEntry
from core.policy.retention import RetentionRules
from core.policy.rules import CirculationRules
from core.privacy.backup import BackupError, backup, restore
from core.privacy.purge import purge
from core.security.keys import load_key
from core.store.engine import create_store_engine
from core.store.migrate import upgrade
from core.store.open import StoreOptions, create_store, open_store
from core.store.uow import Store
from tests.conftest import FAST_ARGON2, NOW, add_patron, add_record_with_items

RULES = RetentionRules()
EXPIRED = dt.date(2023, 1, 1)


def barcodes(store: Store) -> set[str]:
    with store.read() as uow:
        return set(uow.session.scalars(select(Patron.barcode)))


def reopen(options: StoreOptions) -> Store:
    return open_store(options, CirculationRules(), FAST_ARGON2)


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_backup_is_encrypted_with_the_store_key_and_private(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    add_patron(store, "P1", given="Backup-Marker-5512")
    target = tmp_path / "b.db"
    key = load_key(store_options.key_file)
    report = backup(store, key, target, now=NOW)
    assert report.path == target and report.size_bytes == target.stat().st_size > 0
    assert target.stat().st_mode & 0o777 == 0o600
    raw = target.read_bytes()
    assert b"Backup-Marker-5512" not in raw and b"SQLite format 3" not in raw
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(target).execute("SELECT name FROM sqlite_master").fetchall()
    copy = reopen(StoreOptions(database=target, key_file=store_options.key_file))
    try:
        assert barcodes(copy) == {"P1"}
    finally:
        copy.close()
    assert not list(tmp_path.glob(".b.db.partial*"))
    with pytest.raises(BackupError, match="already exists"):
        backup(store, key, target, now=NOW)


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_backup_while_another_connection_writes(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    add_patron(store, "P1")
    key = load_key(store_options.key_file)
    with store.read() as uow:  # a reader holds a snapshot: the export still proceeds
        uow.session.scalar(select(func.count(Patron.id)))
        backup(store, key, tmp_path / "live.db", now=NOW)
    add_patron(store, "P2")
    copy = reopen(StoreOptions(database=tmp_path / "live.db", key_file=store_options.key_file))
    try:
        assert barcodes(copy) == {"P1"}
    finally:
        copy.close()


def test_restoring_an_old_backup_never_brings_a_purged_patron_back(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    key = load_key(store_options.key_file)
    # Expired, but not yet purged when the backup is taken.
    add_patron(store, "GONE-1", given="Restore-Marker-3141", expires_on=EXPIRED)
    add_patron(store, "STAYS-1")
    old = tmp_path / "old.db"
    backup(store, key, old, now=NOW)
    assert purge(store, NOW, RULES).patrons == 1
    add_patron(store, "NEW-AFTER-BACKUP")
    store.close()

    # Restore with rules that would keep everyone: only the ledger can remove GONE-1.
    lenient = RetentionRules(expired_patron_years=50, inactive_patron_years=50)
    report = restore(store_options, old, lenient, NOW)

    assert report.patrons_replayed == 1 and report.ledger_entries_added == 1
    assert "Restore-Marker" not in report.text() and "GONE-1" not in report.text()
    restored = reopen(store_options)
    try:
        assert barcodes(restored) == {"STAYS-1"}  # the backup's state, minus the purged
        with restored.read() as uow:
            ledger = uow.session.scalar(select(func.count(PurgeLedgerEntry.id)))
            chain = verify_chain(uow.session)
        assert ledger == 1  # the union of both ledgers is kept for the next restore
        assert chain.first_broken is None
    finally:
        restored.close()
    leftovers = sorted(p.name for p in store_options.database.parent.iterdir())
    assert not [name for name in leftovers if "restoring" in name or name.endswith("-journal")]


def test_restore_applies_the_current_rules_before_use(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    key = load_key(store_options.key_file)
    add_patron(store, "OLD-1", expires_on=EXPIRED)
    backup(store, key, tmp_path / "b.db", now=NOW)
    store.close()
    report = restore(store_options, tmp_path / "b.db", RULES, NOW)
    assert report.patrons_replayed == 0 and report.purge.patrons == 1
    restored = reopen(store_options)
    try:
        assert barcodes(restored) == set()
    finally:
        restored.close()


def test_a_barcode_given_out_again_after_a_purge_is_not_removed(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    key = load_key(store_options.key_file)
    add_patron(store, "REUSED", expires_on=EXPIRED)
    purge(store, NOW - dt.timedelta(days=10), RULES)
    add_patron(store, "REUSED")  # created on NOW's day, after the purge day
    backup(store, key, tmp_path / "b.db", now=NOW)
    store.close()
    report = restore(store_options, tmp_path / "b.db", RULES, NOW)
    assert report.patrons_replayed == 0
    restored = reopen(store_options)
    try:
        assert barcodes(restored) == {"REUSED"}
    finally:
        restored.close()


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_restore_refuses_a_backup_the_key_does_not_open(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = create_store(
        StoreOptions(database=other_dir / "o.db", key_file=other_dir / "o.key"),
        CirculationRules(),
        FAST_ARGON2,
        now=NOW,
    )
    other.close()
    add_patron(store, "P1")
    store.close()
    before = store_options.database.read_bytes()
    with pytest.raises(WrongKeyError, match="does not open with the store key"):
        restore(store_options, other_dir / "o.db", RULES, NOW)
    assert store_options.database.read_bytes() == before


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_restore_refuses_a_backup_of_another_instance(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    # Same key, different instance secret: its ledger digests would not match.
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_key = other_dir / "o.key"
    other_key.write_bytes(store_options.key_file.read_bytes())
    other_key.chmod(0o600)
    other_db = other_dir / "o.db"
    engine = create_store_engine(other_db, load_key(other_key))
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(Instance).values(id=1, secret="ab" * 32, created_at=NOW))
    engine.dispose()
    store.close()
    with pytest.raises(BackupError, match="another instance"):
        restore(store_options, other_db, RULES, NOW)
    still = reopen(store_options)  # the live database is untouched
    try:
        assert barcodes(still) == set()
    finally:
        still.close()


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_restore_refuses_while_the_database_is_in_use(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    key = load_key(store_options.key_file)
    backup(store, key, tmp_path / "b.db", now=NOW)
    with store.read() as uow:  # the store stays open, as a running server's would
        uow.session.scalar(select(func.count(Patron.id)))
    with pytest.raises(BackupError, match="in use"):
        restore(store_options, tmp_path / "b.db", RULES, NOW)


def test_replay_removes_a_patron_whatever_the_old_backup_says_they_had(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    key = load_key(store_options.key_file)
    add_record_with_items(store, "Title", ["I1"])
    pid = add_patron(store, "HAD-A-LOAN", expires_on=EXPIRED)
    with store.write() as uow:  # out on loan when the backup is taken
        uow.session.add(
            Loan(patron_id=pid, item_id=1, branch="main", checked_out_at=NOW, due_at=NOW)
        )
        item = uow.session.get(Item, 1)
        assert item is not None
        item.status = ItemStatus.ON_LOAN.value
    backup(store, key, tmp_path / "b.db", now=NOW)
    with store.write() as uow:  # returned later, then purged
        uow.session.execute(delete(Loan))
        item = uow.session.get(Item, 1)
        assert item is not None
        item.status = ItemStatus.AVAILABLE.value
    assert purge(store, NOW, RULES).patrons == 1
    store.close()

    lenient = RetentionRules(expired_patron_years=50, inactive_patron_years=50)
    assert restore(store_options, tmp_path / "b.db", lenient, NOW).patrons_replayed == 1
    restored = reopen(store_options)
    try:
        assert barcodes(restored) == set()
        with restored.read() as uow:
            assert uow.session.scalars(select(Loan)).all() == []
            assert uow.session.scalars(select(Item.status)).all() == ["available"]
    finally:
        restored.close()
