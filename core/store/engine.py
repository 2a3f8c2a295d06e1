"""SQLCipher engine: raw key on connect, WAL, foreign keys, `BEGIN IMMEDIATE` for writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from core.errors import StoreError, WrongKeyError

BEGIN_OPTION = "reticent_begin"  # execution option: "IMMEDIATE" for writers, "DEFERRED" for readers
SYNCHRONOUS_MODES = ("NORMAL", "FULL")
SCHEMA_MARKER_TABLE = "alembic_version"


def _key_pragma(key: bytes) -> str:
    # A raw key in hex: SQLCipher skips its passphrase KDF (DESIGN.md, "Store").
    return f"PRAGMA key = \"x'{key.hex()}'\""


def _open_raw(path: Path, key: bytes, *, read_only: bool) -> sqlcipher3.Connection:
    target = f"file:{path}?mode=ro" if read_only else str(path)
    conn = sqlcipher3.connect(target, uri=read_only, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")  # SQLCipher's stderr chatter corrupts a TUI
    conn.execute(_key_pragma(key))
    return conn


def check_store(path: Path, key: bytes) -> None:
    """Refuse a file the key does not open, or that is not a reticent database, touching nothing."""
    if not path.exists():
        raise StoreError(f"no database at {path}; create one with `reticent init`")
    conn = _open_raw(path, key, read_only=True)
    try:
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        except sqlcipher3.DatabaseError:
            raise WrongKeyError(
                f"cannot open {path}: the key does not match, or it is not a reticent database "
                "(the file was not modified)"
            ) from None
    finally:
        conn.close()
    if SCHEMA_MARKER_TABLE not in tables:
        raise WrongKeyError(
            f"{path} opens with this key but is not a reticent database (the file was not modified)"
        )


def create_store_engine(
    path: Path,
    key: bytes,
    *,
    busy_timeout_ms: int = 5000,
    synchronous: str = "FULL",
    pool_size: int = 5,
) -> Engine:
    """An engine on an encrypted SQLite file; keep connections long-lived (key setup is costly)."""
    if synchronous not in SYNCHRONOUS_MODES:
        raise StoreError(f"synchronous must be one of {SYNCHRONOUS_MODES}")

    def connect() -> sqlcipher3.Connection:
        conn = _open_raw(path, key, read_only=False)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(
            "PRAGMA secure_delete = ON"
        )  # PRIV-07: removed rows leave no trace in free pages
        return conn

    engine = create_engine(
        f"sqlite:///{path}",
        module=sqlcipher3,
        creator=connect,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # We emit BEGIN ourselves so writers can take the lock up front (BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
