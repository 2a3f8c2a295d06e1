"""Encrypted backups of a shared PostgreSQL store, and restores that replay the purge ledger.

A backup is not a plain ``pg_dump``: it is every table's rows, read in one snapshot, as JSON
frames sealed with AES-GCM under a key derived from the local key file (PRIV-08). Each frame's
nonce is its position and the last frame says it is the last, so a reordered, cut or edited
file is refused whole before anything is replaced. Sealed columns stay sealed inside it.

A restore replaces every table in one transaction that also merges the live purge ledger and
removes again everyone it names (PRIV-07), so no branch ever sees a purged patron come back.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import column, func, literal_column, select, table, text
from sqlalchemy.engine import Connection, CursorResult

from core.audit import append_event
from core.model import Base, Instance
from core.policy.retention import RetentionRules
from core.policy.rules import CirculationRules
from core.privacy.backup import (
    BackupError,
    BackupReport,
    RestoreReport,
    _create_private,
    _fsync_dir,
    _fsync_file,
)
from core.privacy.destruction import merge_digests, read_digests
from core.privacy.destruction_replay import replay_destruction
from core.privacy.ledger import PurgeLedger, merge_entries, read_entries
from core.privacy.purge import DEFAULT_BATCH_SIZE, delete_patrons, purge
from core.security.columns import unwrap_instance_secret
from core.security.keys import BACKUP_LABEL, load_key
from core.security.secrets import Argon2Params
from core.services.actors import Actor, Permission, local_admin
from core.store.migrate import current_revision
from core.store.open import StoreOptions, instance_secret, open_store
from core.store.uow import Store

MAGIC = b"RETICENT-SHARED-BACKUP-1\n"
SALT_BYTES = 16  # a fresh key per file, so frame counters never repeat a nonce under one key
FRAME_ROWS = 2000  # rows per frame: bounded memory on both sides
_LENGTH_BYTES = 4
_MAX_FRAME = 256 * 1024 * 1024  # refuse a length no frame of ours can have
_ROWS_KIND, _HEAD_KIND, _END_KIND = "rows", "head", "end"


def _file_cipher(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=BACKUP_LABEL + b"/shared")
    return AESGCM(derived.derive(key))


def _aad(salt: bytes, final: bool) -> bytes:
    return MAGIC + salt + (b"\x01" if final else b"\x00")


def _encode(value: object) -> object:
    # Tagged forms for the driver's values JSON has no type for.
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"n": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": bytes(value).hex()}
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def _decode(tagged: dict[str, str]) -> object:
    if len(tagged) == 1:
        ((tag, value),) = tagged.items()
        if tag == "t":
            return dt.datetime.fromisoformat(value)
        if tag == "d":
            return dt.date.fromisoformat(value)
        if tag == "n":
            return decimal.Decimal(value)
        if tag == "b":
            return bytes.fromhex(value)
    raise BackupError("the backup holds a value of an unknown form")


class _FrameWriter:
    def __init__(self, handle: BinaryIO, key: bytes) -> None:
        self._handle = handle
        self._salt = secrets.token_bytes(SALT_BYTES)
        self._cipher = _file_cipher(key, self._salt)
        self._count = 0
        handle.write(MAGIC + self._salt)

    def write(self, record: dict[str, object], *, final: bool = False) -> None:
        plain = json.dumps(record, default=_encode, separators=(",", ":")).encode("utf-8")
        nonce = self._count.to_bytes(12, "big")
        sealed = self._cipher.encrypt(nonce, plain, _aad(self._salt, final))
        self._handle.write(len(sealed).to_bytes(_LENGTH_BYTES, "big") + sealed)
        self._count += 1


def _frames(path: Path, key: bytes) -> Iterator[dict[str, object]]:
    """The records of a backup in order; raises BackupError at the first one that is wrong."""
    with path.open("rb") as handle:
        head = handle.read(len(MAGIC) + SALT_BYTES)
        if not head.startswith(MAGIC) or len(head) != len(MAGIC) + SALT_BYTES:
            raise BackupError(f"{path} is not a backup of a shared store")
        salt = head[len(MAGIC) :]
        cipher = _file_cipher(key, salt)
        count, ended = 0, False
        while True:
            length_bytes = handle.read(_LENGTH_BYTES)
            if not length_bytes:
                break
            if ended:
                raise BackupError(f"{path} has data after its last frame")
            length = int.from_bytes(length_bytes, "big")
            sealed = handle.read(length)
            if len(length_bytes) != _LENGTH_BYTES or length > _MAX_FRAME or len(sealed) != length:
                raise BackupError(f"{path} is cut short")
            nonce = count.to_bytes(12, "big")
            try:
                plain = cipher.decrypt(nonce, sealed, _aad(salt, final=False))
            except InvalidTag:
                try:
                    plain = cipher.decrypt(nonce, sealed, _aad(salt, final=True))
                except InvalidTag:
                    raise BackupError(
                        f"{path} does not open with the key file, or was changed"
                    ) from None
                ended = True
            count += 1
            yield json.loads(plain, object_hook=_decode_hook)
        if not ended:
            raise BackupError(f"{path} is cut short (no last frame)")


def _decode_hook(obj: dict[str, object]) -> object:
    if len(obj) == 1 and next(iter(obj)) in ("t", "d", "n", "b"):
        return _decode({k: str(v) for k, v in obj.items()})
    return obj


def _tables() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables]


def backup_shared(
    store: Store, key: bytes, target: Path, *, now: dt.datetime, actor: Actor | None = None
) -> BackupReport:
    """Write an encrypted copy of the shared store to `target`, from one snapshot (PRIV-08)."""
    who = actor if actor is not None else local_admin()
    who.require(Permission.PURGE)  # a backup holds every patron: administrators only
    if target.exists():
        raise BackupError(f"{target} already exists; refusing to overwrite it")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    _create_private(partial)
    try:
        with partial.open("wb") as handle:
            writer = _FrameWriter(handle, key)
            counts = _write_snapshot(store, writer)
            writer.write({"kind": _END_KIND, "counts": counts}, final=True)
            handle.flush()
        for _record in _frames(partial, key):  # verify before it takes the target's name
            pass
        _fsync_file(partial)
        os.replace(partial, target)
        _fsync_dir(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
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


def _write_snapshot(store: Store, writer: _FrameWriter) -> dict[str, int]:
    counts: dict[str, int] = {}
    snapshot = store.engine.execution_options(isolation_level="REPEATABLE READ")
    with snapshot.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        writer.write({"kind": _HEAD_KIND, "revision": _revision(conn), "tables": _tables()})
        for name in _tables():
            # Stored values as they are: sealed columns stay sealed inside the backup.
            result: CursorResult[tuple[object, ...]] = conn.execution_options(
                stream_results=True
            ).execute(select(literal_column("*")).select_from(table(name)).order_by(text("1")))
            columns = list(result.keys())
            counts[name] = 0
            for rows in result.partitions(FRAME_ROWS):
                writer.write(
                    {
                        "kind": _ROWS_KIND,
                        "table": name,
                        "columns": columns,
                        "rows": [list(row) for row in rows],
                    }
                )
                counts[name] += len(rows)
    return counts


def _revision(conn: Connection) -> str | None:
    value = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return None if value is None else str(value)


@dataclass(frozen=True)
class _Checked:
    revision: str | None
    wrapped_secret: str


def _check(path: Path, key: bytes) -> _Checked:
    """Read the whole backup once: every frame opens, the last is there, it has an instance."""
    revision: str | None = None
    wrapped: str | None = None
    for record in _frames(path, key):
        if record.get("kind") == _HEAD_KIND:
            value = record.get("revision")
            revision = None if value is None else str(value)
        elif record.get("kind") == _ROWS_KIND and record.get("table") == Instance.__tablename__:
            columns = record["columns"]
            rows = record["rows"]
            assert isinstance(columns, list) and isinstance(rows, list)
            for row in rows:
                values = dict(zip(columns, row, strict=True))
                if values.get("id") == 1:
                    wrapped = str(values["secret"])
    if wrapped is None:
        raise BackupError(f"{path} holds no instance row; it is not a backup of a store")
    return _Checked(revision, wrapped)


def restore_shared(
    options: StoreOptions,
    backup_file: Path,
    rules: RetentionRules,
    now: dt.datetime,
    *,
    backup_key: bytes | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: Actor | None = None,
) -> RestoreReport:
    """Replace the shared store's rows with a backup's, never bringing back the purged.

    `backup_key` opens a backup made with an earlier key file.
    """
    who = actor if actor is not None else local_admin()
    who.require(Permission.PURGE)
    if not backup_file.is_file():
        raise BackupError(f"no backup at {backup_file}")
    key = backup_key if backup_key is not None else load_key(options.key_file)
    checked = _check(backup_file, key)
    store = open_store(options, CirculationRules(), Argon2Params())
    try:
        return _replace(store, key, checked, backup_file, rules, now, batch_size, who)
    finally:
        store.close()


def _replace(
    store: Store,
    key: bytes,
    checked: _Checked,
    backup_file: Path,
    rules: RetentionRules,
    now: dt.datetime,
    batch_size: int,
    who: Actor,
) -> RestoreReport:
    if unwrap_instance_secret(key, checked.wrapped_secret) != instance_secret(store.engine):
        raise BackupError(
            f"the backup {backup_file} belongs to another instance; nothing was changed"
        )
    live_revision = current_revision(store.engine)
    if checked.revision != live_revision:
        raise BackupError(
            f"the backup {backup_file} is of schema revision {checked.revision}, the database is "
            f"at {live_revision}: restore it with the version that made it; nothing was changed"
        )
    day = now.astimezone(dt.UTC).date()
    with store.write() as uow:
        # One transaction: every branch sees the old rows or the restored ones with the purge
        # ledger already replayed, never a purged patron in between (PRIV-07).
        session = uow.session
        live_entries = read_entries(session)
        live_destroyed = read_digests(session)
        conn = session.connection()
        live_sequences = _sequences(conn)
        names = ", ".join(f'"{name}"' for name in _tables())
        conn.exec_driver_sql(f"TRUNCATE {names} CASCADE")
        for record in _frames(backup_file, key):
            if record.get("kind") == _ROWS_KIND:
                _insert(conn, record)
        # Ids the live store gave out after the backup are never given out again.
        _raise_sequences(conn, live_sequences)
        added = merge_entries(session, live_entries)
        merge_digests(session, live_destroyed)
        ids = PurgeLedger.for_engine(store.engine).purged_patron_ids(session)
        delete_patrons(session, ids, None, day)  # already in the ledger: removed, not recorded
        destroyed = replay_destruction(session, now, who.label, uow.env.pseudonyms)
        append_event(
            session,
            now=now,
            actor=who.label,
            action="store.restore",
            subject=None,
            detail={
                "ledger_entries_added": added,
                "patrons_replayed": len(ids),
                "destroyed_replayed": sum(destroyed.values()),
            },
        )
    report = purge(store, now, rules, batch_size=batch_size, actor=who)
    return RestoreReport(added, len(ids), report, destroyed)


def _insert(conn: Connection, record: dict[str, object]) -> None:
    name, columns, rows = record["table"], record["columns"], record["rows"]
    assert isinstance(name, str) and isinstance(columns, list) and isinstance(rows, list)
    if name not in _tables():
        raise BackupError(f"the backup holds an unknown table {name}")
    # Untyped columns: the stored (sealed) values go back exactly as they were read.
    target = table(name, *(column(str(c)) for c in columns))
    conn.execute(target.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


def _id_tables() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables if "id" in t.c]


def _sequences(conn: Connection) -> dict[str, int]:
    """The last id each table's sequence gave out (0 when it gave none)."""
    found: dict[str, int] = {}
    for name in _id_tables():
        sequence = func.pg_get_serial_sequence(name, "id")
        last = conn.execute(select(func.pg_sequence_last_value(sequence))).scalar()
        found[name] = int(last or 0)
    return found


def _raise_sequences(conn: Connection, live: dict[str, int]) -> None:
    """Each sequence continues above both the restored ids and what the live store gave out."""
    for name in _id_tables():
        sequence = func.pg_get_serial_sequence(name, "id")
        highest = select(func.max(column("id"))).select_from(table(name)).scalar_subquery()
        floor = func.greatest(func.coalesce(highest, 0), live.get(name, 0))
        conn.execute(select(func.setval(sequence, floor + 1, False)).where(sequence.is_not(None)))
