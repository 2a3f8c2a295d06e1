"""Rotate the store key without ever being left with a database no key file opens (PRIV-08)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from core.audit import append_event
from core.errors import WrongKeyError
from core.privacy.backup import BackupError, raw_connection, require_idle, verify_opens
from core.security.keys import KEY_BYTES, load_key
from core.services.actors import Actor, Permission, local_admin
from core.store.engine import check_store, create_store_engine

OLD_SUFFIX = ".old"  # reticent.key.old: kept until the new key is proven to open the database
NEW_SUFFIX = ".new"  # reticent.key.new: written before the database is re-encrypted


@dataclass(frozen=True)
class RekeyReport:
    """The outcome of a rotation; `resumed` when an interrupted rotation was completed."""

    key_file: Path
    resumed: bool = False


def _write_key_atomically(path: Path, key: bytes) -> None:
    """Write a key file (mode 0600) under a temporary name, sync it, then rename it into place."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _opens(database: Path, key: bytes) -> bool:
    try:
        check_store(database, key)
    except WrongKeyError:
        return False
    return True


def _audit(database: Path, key: bytes, now: dt.datetime, actor: Actor) -> None:
    engine = create_store_engine(database, key, pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            append_event(session, now=now, actor=actor.label, action="store.rekey", subject=None)
    finally:
        engine.dispose()


def rekey(
    database: Path, key_file: Path, *, now: dt.datetime, actor: Actor | None = None
) -> RekeyReport:
    """Re-encrypt the database with a new random key and replace the key file (PRIV-08).

    Order, so that a crash at any step leaves a key file on disk that opens the database:
    the old key is copied to `<key>.old`, the new key is written to `<key>.new`, the database is
    re-encrypted, `<key>.new` is renamed over the key file, the database is verified to open
    with the new key and not with the old one, and only then is `<key>.old` removed.
    Pseudonyms and the purge ledger derive from the instance secret inside the database, so
    they are unchanged. The server must be stopped: its connections hold the old key.
    """
    who = actor if actor is not None else local_admin()
    who.require(Permission.PURGE)
    old_copy = key_file.with_name(key_file.name + OLD_SUFFIX)
    new_copy = key_file.with_name(key_file.name + NEW_SUFFIX)
    old_key = load_key(key_file)
    resumed = False
    if not _opens(database, old_key):
        # An earlier rotation stopped after re-encrypting: its new key is in `<key>.new`.
        if new_copy.exists() and _opens(database, load_key(new_copy)):
            os.replace(new_copy, key_file)
            resumed = True
        else:
            raise WrongKeyError(f"{key_file} does not open {database}; nothing was changed")
    else:
        require_idle(database, old_key)
        new_key = secrets.token_bytes(KEY_BYTES)
        _write_key_atomically(old_copy, old_key)
        _write_key_atomically(new_copy, new_key)
        with raw_connection(database, old_key) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")
        os.replace(new_copy, key_file)
    key = load_key(key_file)
    verify_opens(database, key)
    if old_copy.exists() and not resumed and _opens(database, load_key(old_copy)):
        raise BackupError(f"{database} still opens with the old key; {old_copy} was kept")
    _audit(database, key, now, who)
    old_copy.unlink(missing_ok=True)
    return RekeyReport(key_file, resumed)
