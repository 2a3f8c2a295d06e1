"""SQLCipher engine: raw key on connect, WAL, foreign keys, `BEGIN IMMEDIATE` for writes.

Also ``Prepared``: a Core statement compiled once per dialect and run on the driver's cursor,
for the few statements every SIP2 request runs (docs/performance.md, "SIP2 load").
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlcipher3
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from core.errors import StoreError, WrongKeyError

BEGIN_OPTION = "reticent_begin"  # execution option: "IMMEDIATE" for writers, "DEFERRED" for readers
SYNCHRONOUS_MODES = ("NORMAL", "FULL")
SCHEMA_MARKER_TABLE = "alembic_version"


def _key_pragma(key: bytes) -> str:
    # A raw key in hex: SQLCipher skips its passphrase KDF (docs/architecture.md, "Store").
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
        # Errors never carry bound values: they are names, barcodes and PIN hashes (PRIV-16).
        hide_parameters=True,
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


def describe_database_error(error: Exception) -> str:
    """One line about a database failure for an operator: the driver's kind and message only.

    SQLite's messages name tables, columns and constraints, never values; the statement and
    its parameters (names, barcodes) are left out (PRIV-16).
    """
    driver = getattr(error, "orig", None) or error
    message = str(driver).splitlines()[0] if str(driver) else ""
    return f"database error ({type(driver).__name__}: {message})"


def read_sequences(session: Session) -> dict[str, int]:
    """The highest id each AUTOINCREMENT table has ever given out (SQLite's sqlite_sequence)."""
    rows = session.execute(text("SELECT name, seq FROM sqlite_sequence"))
    return {str(name): int(seq) for name, seq in rows}


def raise_sequences(session: Session, sequences: Mapping[str, int]) -> None:
    """Make each table give out ids above `sequences` (never lowers one)."""
    for name, seq in sequences.items():
        session.execute(
            text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :name AND seq < :seq"),
            {"name": name, "seq": seq},
        )
        session.execute(
            text(
                "INSERT INTO sqlite_sequence (name, seq) SELECT :name, :seq WHERE NOT EXISTS"
                " (SELECT 1 FROM sqlite_sequence WHERE name = :name)"
            ),
            {"name": name, "seq": seq},
        )


_CHECKPOINT_CONNECTION = "reticent_checkpoint_connection"  # Session.info: the DBAPI connection
_CHECKPOINT_LISTENING = "reticent_checkpoint_listening"


def truncate_wal_now(driver: sqlcipher3.Connection) -> bool:
    """Copy the WAL into the database file and empty it, without waiting for anyone.

    With ``secure_delete`` on, a deleted row is then on no page of the file or its WAL. Returns
    False when a reader in another connection still needs the log (it is emptied later).
    """
    (timeout,) = driver.execute("PRAGMA busy_timeout").fetchone()
    driver.execute("PRAGMA busy_timeout = 0")
    try:
        row = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlcipher3.OperationalError:
        return False  # busy: another connection is checkpointing or writing
    finally:
        driver.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    return row is not None and int(row[0]) == 0


def checkpoint_after_commit(session: Session) -> None:
    """Empty the WAL once this session's transaction commits (``truncate_wal_now``).

    For deletes whose rows must leave the disk, not only the table (docs/data-inventory.md,
    "Deleted rows"). A savepoint's release is not the commit; after a rollback there is nothing
    to empty, and the next commit of the session checkpoints once more (harmless).
    """
    if _CHECKPOINT_CONNECTION in session.info:
        return
    if session.get_bind().dialect.name != "sqlite":
        return  # no WAL file of ours on PostgreSQL; sealed columns hold no clear PII there
    session.info[_CHECKPOINT_CONNECTION] = session.connection().connection.driver_connection
    if not session.info.get(_CHECKPOINT_LISTENING):
        session.info[_CHECKPOINT_LISTENING] = True
        event.listen(session, "after_commit", _checkpoint_committed)


def _checkpoint_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the transaction is still open
    driver = session.info.pop(_CHECKPOINT_CONNECTION, None)
    if driver is not None:
        truncate_wal_now(driver)


Row = tuple[Any, ...]
_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    """A statement compiled for one dialect: its SQL, how to bind, how to read its rows."""

    sql: str
    positional: bool
    names: tuple[str, ...]  # bind names, in placeholder order when positional
    fixed: Mapping[str, Any]  # values the statement carries itself (literals)
    binders: Mapping[str, _Processor]
    readers: tuple[_Processor, ...]


class Prepared:
    """A Core statement run on the DBAPI cursor of a session's connection, in its transaction.

    SQLAlchemy's own execution costs about ten times what SQLite takes to run a small indexed
    query here (cache key, compiled-cache lookup, result and ORM setup). The statement stays
    portable Core (compiled per dialect on first use, with each column type's bind and result
    processing), but running it is just the driver call. It bypasses the ORM: no autoflush and
    no identity map; core/store/repository.py, its one user, flushes pending ORM changes
    before each statement and expires the session's copies of the rows it writes.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        # One plan per engine's dialect: the bind and result processors of sealed columns
        # (core/model/sealed.py) belong to the engine whose keys they use.
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan] = weakref.WeakKeyDictionary()

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = self._compile(dialect)
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
        if compiled.has_out_parameters or "POSTCOMPILE" in compiled.string:
            # An expanding IN (...) is rendered per execution; write it as ORs of equalities.
            raise StoreError("a prepared statement cannot hold an expanding IN")
        positional = bool(compiled.positional)
        names = (
            tuple(compiled.positiontup or ()) if positional else tuple(compiled.bind_names.values())
        )
        binds = {name: bind for name, bind in compiled.binds.items() if name in names}
        columns: Sequence[Any] = getattr(self.statement, "selected_columns", ())
        return _Plan(
            sql=compiled.string,
            positional=positional,
            names=names,
            fixed={name: bind.effective_value for name, bind in binds.items() if not bind.required},
            binders={
                name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for name, bind in binds.items()
            },
            readers=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in columns
            ),
        )

    def _execute(self, session: Session, params: Mapping[str, Any]) -> tuple[_Plan, Any]:
        connection = session.connection()
        plan = self._plan(connection.dialect)
        values = []
        for name in plan.names:
            value = params[name] if name in params else plan.fixed[name]
            binder = plan.binders[name]
            values.append(value if binder is None else binder(value))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if plan.positional:
            cursor.execute(plan.sql, values)
        else:
            cursor.execute(plan.sql, dict(zip(plan.names, values, strict=True)))
        return plan, cursor

    def all(self, session: Session, params: Mapping[str, Any]) -> list[Row]:
        """Every row, each value converted as its column type converts it."""
        plan, cursor = self._execute(session, params)
        readers = plan.readers
        return [
            tuple(
                value if reader is None or value is None else reader(value)
                for reader, value in zip(readers, row, strict=True)
            )
            for row in cursor.fetchall()
        ]

    def first(self, session: Session, params: Mapping[str, Any]) -> Row | None:
        rows = self.all(session, params)
        return rows[0] if rows else None

    def run(self, session: Session, params: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
        _plan, cursor = self._execute(session, params)
        return int(cursor.rowcount)
