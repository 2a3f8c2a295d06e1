"""Retired store keys, kept so backups made before a rekey stay restorable (PRIV-07, PRIV-08).

`rekey` retires the key it replaces into `<key file>.retired/<key id>.key` (mode 0600, folder
0700). Every database and backup records the id of the key that encrypts it (`instance.key_id`),
so `restore` finds the right retired key by itself. A retired key is destroyed once it can
only open backups that retention has deleted: it was retired longer ago than the backups are
kept (`backup_expires`), and no file left in the backup folder opens with it.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from core.errors import KeyFileError, WrongKeyError
from core.policy.retention import RetentionRules, backup_expires
from core.security.keys import key_id, load_key
from core.store.engine import check_store

RETIRED_SUFFIX = ".retired"


@dataclass(frozen=True)
class RetiredKey:
    """One retired key: its id (the file's name), the key, and when it was retired."""

    key_id: str
    key: bytes
    path: Path
    retired_at: dt.datetime


def retired_folder(key_file: Path) -> Path:
    """`reticent.key.retired` beside the key file."""
    return key_file.with_name(key_file.name + RETIRED_SUFFIX)


def write_key_file(path: Path, key: bytes) -> None:
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


def retire_key(key_file: Path, key: bytes) -> Path:
    """Keep `key` in the retired folder under its id; returns the file written."""
    folder = retired_folder(key_file)
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    target = folder / f"{key_id(key)}.key"
    if not target.exists():
        write_key_file(target, key)
    return target


def retired_keys(key_file: Path) -> list[RetiredKey]:
    """The retired keys, newest first; a file that is not a private key file is refused."""
    folder = retired_folder(key_file)
    if not folder.is_dir():
        return []
    found: list[RetiredKey] = []
    for path in folder.glob("*.key"):
        key = load_key(path)  # refuses a file others can read (PRIV-08)
        if key_id(key) != path.stem:
            raise KeyFileError(f"retired key file {path} does not hold the key its name says")
        moment = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        found.append(RetiredKey(path.stem, key, path, moment))
    return sorted(found, key=lambda retired: retired.retired_at, reverse=True)


def opens(path: Path, key: bytes) -> bool:
    """Whether `key` opens the reticent database or backup at `path`."""
    try:
        check_store(path, key)
    except WrongKeyError:
        return False
    return True


def recorded_key_id(path: Path, key: bytes) -> str | None:
    """The key id written inside a database or backup that `key` opens (None: made before ids)."""
    conn = sqlcipher3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        row = conn.execute("SELECT key_id FROM instance WHERE id = 1").fetchone()
    except sqlcipher3.DatabaseError:
        return None  # a schema from before key ids: nothing recorded
    finally:
        conn.close()
    return None if row is None or row[0] is None else str(row[0])


def key_for_backup(key_file: Path, backup: Path) -> bytes | None:
    """The retired key that opens `backup` (and that its recorded key id names), or None."""
    for retired in retired_keys(key_file):
        if opens(backup, retired.key):
            recorded = recorded_key_id(backup, retired.key)
            if recorded is not None and recorded != retired.key_id:
                continue
            return retired.key
    return None


def backups_needing(key: bytes, backup_dir: Path) -> list[Path]:
    """The files in the backup folder that open only with `key`."""
    if not backup_dir.is_dir():
        return []
    return sorted(
        path for path in backup_dir.iterdir() if path.is_file() and opens(path, key)
    )


def prune_retired_keys(
    key_file: Path, backup_dir: Path, now: dt.datetime, rules: RetentionRules
) -> int:
    """Destroy retired keys no kept backup needs (see the module doc); how many went."""
    removed = 0
    for retired in retired_keys(key_file):
        if not backup_expires(retired.retired_at, now, rules):
            continue  # a backup made with it may still be within retention, wherever it is
        if backups_needing(retired.key, backup_dir):
            continue
        with retired.path.open("r+b") as handle:  # overwrite before unlinking
            size = len(handle.read())
            handle.seek(0)
            handle.write(b"0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        retired.path.unlink()
        removed += 1
    return removed
