"""Encrypted backups of a running store, and restores that replay the purge and destruction
ledgers (PRIV-07)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlcipher3
from sqlalchemy import update

from core.audit import append_event
from core.errors import ReticentError, StoreError, WrongKeyError
from core.model import Instance
from core.policy.retention import RetentionRules
from core.policy.rules import CirculationRules
from core.privacy.destruction import merge_digests, read_digests
from core.privacy.destruction_replay import replay_destruction
from core.privacy.keyring import key_for_backup, opens
from core.privacy.ledger import LedgerEntry, PurgeLedger, merge_entries, read_entries
from core.privacy.purge import (
    DEFAULT_BATCH_SIZE,
    PurgeReport,
    delete_patrons,
    purge,
    truncate_wal,
)
from core.security.keys import key_id, load_key
from core.security.secrets import Argon2Params
from core.services.actors import Actor, Permission, local_admin
from core.store.engine import check_store, raise_sequences, read_sequences
from core.store.open import StoreOptions, instance_secret, open_store
from core.store.uow import Store

ATTACHED = "reticent_backup"
SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(ReticentError):
    """A backup or restore was refused; nothing was replaced."""


@contextmanager
def raw_connection(path: Path, key: bytes) -> Iterator[sqlcipher3.Connection]:
    """One driver connection outside the pool (for export, rekey and journal changes)."""
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        yield conn
    finally:
        conn.close()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_with_side_files(path: Path) -> None:
    for suffix in ("", *SIDE_FILES):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _create_private(path: Path) -> None:
    """An empty file readable by its owner only: backups hold everything (PRIV-08)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def verify_opens(path: Path, key: bytes) -> None:
    """Check that every page of `path` decrypts and authenticates with `key`."""
    check_store(path, key)
    with raw_connection(path, key) as conn:
        problems = conn.execute("PRAGMA cipher_integrity_check").fetchall()
        status = conn.execute("PRAGMA quick_check").fetchone()
    if problems or status is None or status[0] != "ok":
        raise BackupError(f"{path} failed its integrity check")


def require_idle(database: Path, key: bytes) -> None:
    """Refuse while another process has the database open (stop `reticent serve` first).

    The last connection to close removes the WAL and shared-memory files, so after opening and
    closing our own connection their presence means someone else still holds the database.
    """
    with raw_connection(database, key) as conn:
        conn.execute("PRAGMA journal_mode").fetchone()
    for suffix in ("-wal", "-shm"):
        if Path(str(database) + suffix).exists():
            raise BackupError(
                f"{database} is in use by another process; stop `reticent serve` and try again"
            )


@dataclass(frozen=True)
class BackupReport:
    """Where the backup went and how large it is."""

    path: Path
    size_bytes: int


def backup(
    store: Store, key: bytes, target: Path, *, now: dt.datetime, actor: Actor | None = None
) -> BackupReport:
    """Write a consistent, SQLCipher-encrypted copy of the store to `target` (PRIV-08).

    Runs beside a live server: the export reads one snapshot inside a read transaction. The copy
    is encrypted with the store key, written under a temporary name, verified, then renamed.
    """
    if store.engine.dialect.name != "sqlite":
        from core.privacy.backup_shared import backup_shared

        return backup_shared(store, key, target, now=now, actor=actor)
    who = actor if actor is not None else local_admin()
    who.require(Permission.PURGE)  # a backup holds every patron: administrators only
    if target.exists():
        raise BackupError(f"{target} already exists; refusing to overwrite it")
    partial = target.with_name(f".{target.name}.partial")
    _remove_with_side_files(partial)
    _create_private(partial)
    try:
        raw = store.engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None
            conn.execute(f"ATTACH DATABASE ? AS {ATTACHED} KEY \"x'{key.hex()}'\"", (str(partial),))
            try:
                # One read transaction: the export sees a single snapshot of a live store.
                conn.execute("BEGIN")
                try:
                    conn.execute(f"SELECT sqlcipher_export('{ATTACHED}')")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            finally:
                conn.execute(f"DETACH DATABASE {ATTACHED}")
        finally:
            raw.close()
        with raw_connection(partial, key) as conn:
            # Which key opens this backup, so a restore after a rekey finds it (PRIV-08).
            conn.execute("UPDATE instance SET key_id = ?", (key_id(key),))
        try:
            verify_opens(partial, key)
        except WrongKeyError as exc:
            raise BackupError(f"the backup does not open with the store key: {exc}") from None
        _fsync_file(partial)
        os.replace(partial, target)
        _fsync_dir(target.parent)
    except BaseException:
        _remove_with_side_files(partial)
        raise
    size = target.stat().st_size
    with store.write() as uow:
        append_event(
            uow.session,
            now=now,
            actor=who.label,
            action="store.backup",
            subject=None,
            detail={"bytes": size},
        )
    return BackupReport(target, size)


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did before the store was used again: counts only."""

    ledger_entries_added: int
    patrons_replayed: int
    purge: PurgeReport
    destroyed_replayed: Mapping[str, int] = field(default_factory=dict)  # rows per table

    def text(self) -> str:
        destroyed = ", ".join(f"{t} {n}" for t, n in sorted(self.destroyed_replayed.items()))
        return "\n".join(
            [
                f"restored; purge ledger entries merged from the replaced database: "
                f"{self.ledger_entries_added}",
                f"patrons already purged and removed again: {self.patrons_replayed}",
                "rows deleted for privacy since the backup and deleted again: "
                + (destroyed or "none"),
                self.purge.text(),
            ]
        )


@dataclass(frozen=True)
class _LiveState:
    """What the database about to be replaced knows and its backup may not (read first)."""

    entries: list[LedgerEntry]
    secret: bytes | None
    destroyed: set[str] = field(default_factory=set)  # destruction-ledger digests
    sequences: dict[str, int] = field(default_factory=dict)  # highest id ever given, per table


def _live_ledger(options: StoreOptions, key: bytes) -> _LiveState:
    """The current ledgers, id sequences and instance secret, read before anything is replaced."""
    if not options.database.exists():
        return _LiveState([], None)
    try:
        require_idle(options.database, key)
        live = open_store(options, CirculationRules(), Argon2Params())
    except (StoreError, sqlcipher3.DatabaseError) as exc:
        if isinstance(exc, BackupError):
            raise
        raise BackupError(
            f"cannot read the purge ledger of {options.database} ({exc}); without it a restore "
            "could bring back patrons purged since the backup. Move that file away to restore "
            "without its ledger."
        ) from None
    try:
        with live.read() as uow:
            return _LiveState(
                read_entries(uow.session),
                instance_secret(live.engine),
                read_digests(uow.session),
                read_sequences(uow.session),
            )
    finally:
        live.close()  # the last connection: its WAL is folded into the file


def _replay(store: Store, now: dt.datetime, batch_size: int) -> int:
    ledger = PurgeLedger.for_engine(store.engine)
    with store.read() as uow:
        ids = ledger.purged_patron_ids(uow.session)
    day = now.astimezone(dt.UTC).date()
    for start in range(0, len(ids), batch_size):
        with store.write() as uow:
            # Already in the ledger: not recorded twice (None), just removed again.
            delete_patrons(uow.session, ids[start : start + batch_size], None, day)
    return len(ids)


def restore(
    options: StoreOptions,
    backup_file: Path,
    rules: RetentionRules,
    now: dt.datetime,
    *,
    backup_key: bytes | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: Actor | None = None,
) -> RestoreReport:
    """Replace the database with a backup, never bringing back anyone already purged (PRIV-07).

    Before the restored file takes the database's place, the current purge ledger is merged into
    it and replayed, and the current retention rules are applied. `backup_key` opens a backup
    made before a rekey; the restored database is re-encrypted with the current key.
    """
    if options.url is not None:
        from core.privacy.backup_shared import restore_shared

        return restore_shared(
            options, backup_file, rules, now, backup_key=backup_key, batch_size=batch_size,
            actor=actor,
        )
    who = actor if actor is not None else local_admin()
    who.require(Permission.PURGE)
    key = load_key(options.key_file)
    if not backup_file.is_file():
        raise BackupError(f"no backup at {backup_file}")
    opening_key = backup_key if backup_key is not None else key
    if backup_key is None and not opens(backup_file, key):
        # Made before a rekey: the key it records is among the retired ones.
        opening_key = key_for_backup(options.key_file, backup_file) or key
    try:
        verify_opens(backup_file, opening_key)
    except WrongKeyError:
        # A key problem is a setup problem (exit 2), like a wrong store key.
        raise WrongKeyError(
            f"the backup {backup_file} does not open with "
            f"{'the given key' if backup_key is not None else 'the store key'}; "
            "nothing was changed; no retired key opens it either (is it from another instance?)"
        ) from None
    live = _live_ledger(options, key)

    staging = options.database.with_name(options.database.name + ".restoring")
    _remove_with_side_files(staging)
    _create_private(staging)
    try:
        with backup_file.open("rb") as source, staging.open("wb") as copy:
            shutil.copyfileobj(source, copy)
        if opening_key != key:
            with raw_connection(staging, opening_key) as conn:
                conn.execute(f"PRAGMA rekey = \"x'{key.hex()}'\"")
        staged = open_store(
            StoreOptions(database=staging, key_file=options.key_file),
            CirculationRules(),
            Argon2Params(),
            migrate=True,
        )
        try:
            if live.secret is not None and instance_secret(staged.engine) != live.secret:
                raise BackupError(
                    f"the backup {backup_file} belongs to another instance; nothing was changed"
                )
            with staged.write() as uow:
                uow.session.execute(update(Instance).values(key_id=key_id(key)))
                added = merge_entries(uow.session, live.entries)
                merge_digests(uow.session, live.destroyed)
                # Ids the live store gave out after the backup are never given out again.
                raise_sequences(uow.session, live.sequences)
            replayed = _replay(staged, now, batch_size)
            with staged.write() as uow:
                destroyed = replay_destruction(uow.session, now, who.label, uow.env.pseudonyms)
            report = purge(staged, now, rules, batch_size=batch_size, actor=who)
            with staged.write() as uow:
                append_event(
                    uow.session,
                    now=now,
                    actor=who.label,
                    action="store.restore",
                    subject=None,
                    detail={
                        "ledger_entries_added": added,
                        "patrons_replayed": replayed,
                        "destroyed_replayed": sum(destroyed.values()),
                    },
                )
            truncate_wal(staged)
        finally:
            staged.close()
        with raw_connection(staging, key) as conn:
            # One self-contained file: the live database gets a fresh WAL when next opened.
            conn.execute("PRAGMA journal_mode = DELETE").fetchone()
        verify_opens(staging, key)
        _fsync_file(staging)
        if options.database.exists():
            require_idle(options.database, key)
        os.replace(staging, options.database)
        _fsync_dir(options.database.parent)
    except BaseException:
        _remove_with_side_files(staging)
        raise
    return RestoreReport(added, replayed, report, destroyed)
