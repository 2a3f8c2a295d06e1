"""Rotate the store key without ever being left with a database no key file opens (PRIV-08)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.audit import append_event
from core.errors import WrongKeyError
from core.model import Instance
from core.privacy.backup import BackupError, raw_connection, require_idle, verify_opens
from core.privacy.keyring import (
    backups_needing,
    opens,
    retire_key,
    retired_folder,
    retired_keys,
    write_key_file,
)
from core.security.keys import KEY_BYTES, key_id, load_key
from core.services.actors import Actor, Permission, local_admin
from core.store.engine import create_store_engine

OLD_SUFFIX = ".old"  # reticent.key.old: kept until the new key is proven to open the database
NEW_SUFFIX = ".new"  # reticent.key.new: written before the database is re-encrypted


@dataclass(frozen=True)
class RekeyPlan:
    """What a rotation will do, to show before asking for confirmation."""

    key_id: str  # the current key, which will be retired
    retired_folder: Path
    backups_with_this_key: int  # in the backup folder; they will need the retired key
    retired_keys: int  # already kept from earlier rotations


def plan_rekey(key_file: Path, backup_dir: Path) -> RekeyPlan:
    """Describe a rotation of the key in `key_file` (nothing is changed)."""
    key = load_key(key_file)
    return RekeyPlan(
        key_id=key_id(key),
        retired_folder=retired_folder(key_file),
        backups_with_this_key=len(backups_needing(key, backup_dir)),
        retired_keys=len(retired_keys(key_file)),
    )


@dataclass(frozen=True)
class RekeyReport:
    """The outcome of a rotation; `resumed` when an interrupted rotation was completed."""

    key_file: Path
    resumed: bool = False


def _record(database: Path, key: bytes, now: dt.datetime, actor: Actor, retired: str) -> None:
    """The new key's id in the instance row (backups carry it), and the audit event."""
    engine = create_store_engine(database, key, pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            session.execute(update(Instance).values(key_id=key_id(key)))
            append_event(
                session,
                now=now,
                actor=actor.label,
                action="store.rekey",
                subject=None,
                detail={"retired_key": retired, "key": key_id(key)},
            )
    finally:
        engine.dispose()


def rekey(
    database: Path, key_file: Path, *, now: dt.datetime, actor: Actor | None = None
) -> RekeyReport:
    """Re-encrypt the database with a new random key and replace the key file (PRIV-08).

    The old key is first retired (`core.privacy.keyring`), so backups made with it still
    restore without extra options. Then, so that a crash at any step leaves a key file on disk
    that opens the database: the old key is copied to `<key>.old`, the new key is written to
    `<key>.new`, the database is re-encrypted, `<key>.new` is renamed over the key file, the
    database is verified to open with the new key and not with the old one, and only then is
    `<key>.old` removed.
    Pseudonyms and the purge ledger derive from the instance secret inside the database, so
    they are unchanged. The server must be stopped: its connections hold the old key.
    """
    who = actor if actor is not None else local_admin()
    who.require(Permission.PURGE)
    old_copy = key_file.with_name(key_file.name + OLD_SUFFIX)
    new_copy = key_file.with_name(key_file.name + NEW_SUFFIX)
    old_key = load_key(key_file)
    resumed = False
    if not opens(database, old_key):
        # An earlier rotation stopped after re-encrypting: its new key is in `<key>.new`.
        if new_copy.exists() and opens(database, load_key(new_copy)):
            os.replace(new_copy, key_file)
            resumed = True
        else:
            raise WrongKeyError(f"{key_file} does not open {database}; nothing was changed")
    else:
        require_idle(database, old_key)
        new_key = secrets.token_bytes(KEY_BYTES)
        retire_key(key_file, old_key)  # PRIV-07: older backups stay restorable
        write_key_file(old_copy, old_key)
        write_key_file(new_copy, new_key)
        with raw_connection(database, old_key) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")
        os.replace(new_copy, key_file)
    key = load_key(key_file)
    verify_opens(database, key)
    if old_copy.exists() and not resumed and opens(database, load_key(old_copy)):
        raise BackupError(f"{database} still opens with the old key; {old_copy} was kept")
    _record(database, key, now, who, key_id(old_key))
    old_copy.unlink(missing_ok=True)
    return RekeyReport(key_file, resumed)
