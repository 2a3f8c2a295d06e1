"""Backups of a shared PostgreSQL store: encrypted files, restores that replay the purge ledger."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.audit import verify_chain
from core.errors import WrongKeyError
from core.model import Patron
from core.model.retention import PurgeLedgerEntry
from core.policy.retention import RetentionRules
from core.policy.rules import CirculationRules
from core.privacy.backup import BackupError, backup, restore
from core.privacy.purge import purge
from core.security.keys import generate_key_file, load_key
from core.store.open import StoreOptions, open_store
from core.store.uow import Store
from tests.conftest import FAST_ARGON2, NOW, add_patron

RULES = RetentionRules()
EXPIRED = dt.date(2023, 1, 1)
LENIENT = RetentionRules(expired_patron_years=50, inactive_patron_years=50)


def barcodes(store: Store) -> set[str]:
    with store.read() as uow:
        return set(uow.session.scalars(select(Patron.barcode)))


def test_backup_is_an_encrypted_private_file_not_a_dump(
    pg_store: Store, pg_store_options: StoreOptions, tmp_path: Path
) -> None:
    # Markers long enough that random ciphertext cannot hold one by chance.
    add_patron(pg_store, "BARCODE-MARKER-7741", given="Backup-Marker-5512", family="Zed")
    target = tmp_path / "b.pgbackup"
    report = backup(pg_store, load_key(pg_store_options.key_file), target, now=NOW)
    assert report.size_bytes == target.stat().st_size > 0
    assert target.stat().st_mode & 0o777 == 0o600
    raw = target.read_bytes()
    for marker in (b"Backup-Marker", b"BARCODE-MARKER", b"PostgreSQL database dump", b"patrons"):
        assert marker not in raw
    assert not list(tmp_path.glob(".b.pgbackup.partial"))
    with pytest.raises(BackupError, match="already exists"):
        backup(pg_store, load_key(pg_store_options.key_file), target, now=NOW)


def test_restoring_an_old_backup_never_brings_a_purged_patron_back(
    pg_store: Store, pg_store_options: StoreOptions, tmp_path: Path
) -> None:
    key = load_key(pg_store_options.key_file)
    add_patron(pg_store, "GONE-1", given="Restore-Marker-3141", expires_on=EXPIRED)
    add_patron(pg_store, "STAYS-1", given="Stella")
    old = tmp_path / "old.pgbackup"
    backup(pg_store, key, old, now=NOW)
    assert purge(pg_store, NOW, RULES).patrons == 1
    add_patron(pg_store, "NEW-AFTER-BACKUP")
    pg_store.close()

    report = restore(pg_store_options, old, LENIENT, NOW)  # only the ledger removes GONE-1
    assert report.patrons_replayed == 1 and report.ledger_entries_added == 1
    assert "Restore-Marker" not in report.text() and "GONE-1" not in report.text()
    restored = open_store(pg_store_options, CirculationRules(), FAST_ARGON2)
    try:
        assert barcodes(restored) == {"STAYS-1"}
        with restored.read() as uow:
            assert uow.session.scalar(select(func.count(PurgeLedgerEntry.id))) == 1
            assert verify_chain(uow.session).first_broken is None
            stella = uow.session.scalars(select(Patron.given_name)).one()
        assert stella == "Stella"  # sealed values came back as they were, and still open
        add_patron(restored, "AFTER-RESTORE")  # identity sequences continue past restored ids
    finally:
        restored.close()


def test_a_changed_or_cut_backup_is_refused_and_nothing_changes(
    pg_store: Store, pg_store_options: StoreOptions, tmp_path: Path
) -> None:
    key = load_key(pg_store_options.key_file)
    add_patron(pg_store, "P1")
    good = tmp_path / "good.pgbackup"
    backup(pg_store, key, good, now=NOW)
    add_patron(pg_store, "P2")
    raw = good.read_bytes()
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0x01
    cases = {
        "changed.pgbackup": (bytes(flipped), "does not open with the key file, or was changed"),
        "cut.pgbackup": (raw[: len(raw) - 40], "cut short"),
        "foreign.pgbackup": (b"SQLite format 3\x00" + raw[16:], "not a backup of a shared store"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(BackupError, match=message):
            restore(pg_store_options, tmp_path / name, RULES, NOW)
    assert barcodes(pg_store) == {"P1", "P2"}


def test_a_backup_of_another_instance_or_key_is_refused(
    pg_store: Store, pg_store_options: StoreOptions, tmp_path: Path, pg_databases: object
) -> None:
    add_patron(pg_store, "P1")
    backup(pg_store, load_key(pg_store_options.key_file), tmp_path / "b.pgbackup", now=NOW)
    other_key = tmp_path / "other.key"
    generate_key_file(other_key)
    with pytest.raises(BackupError, match="does not open with the key file"):
        restore(
            pg_store_options, tmp_path / "b.pgbackup", RULES, NOW,
            backup_key=load_key(other_key),
        )
    wrong = dataclasses.replace(pg_store_options, key_file=other_key)
    with pytest.raises((BackupError, WrongKeyError)):
        restore(wrong, tmp_path / "b.pgbackup", RULES, NOW)
    assert barcodes(pg_store) == {"P1"}
