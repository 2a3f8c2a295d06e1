"""Units of work: one session and one transaction, committed by the caller, never by services.

Group commit: inside ``with store.batch():`` on one thread, every ``store.write()`` on that
thread joins one shared transaction, each in its own SAVEPOINT, and the batch commits once at
its end. With ``synchronous = FULL`` that is one fsync for the whole batch instead of one per
write. A write whose block raises rolls back its own savepoint only; the others stay. Nothing
written in a batch is durable (or visible to other connections) before the batch commits, so
callers hand out the results of joined writes only after the batch block has ended without
error. ``store.read()`` inside a batch is unchanged: it reads committed data on its own
connection, so a job that must see its own writes reads inside its ``write()`` block.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.errors import StoreError
from core.policy.rules import CirculationRules
from core.security.keys import Pseudonymizer
from core.security.secrets import SecretHasher
from core.store.engine import BEGIN_OPTION


@dataclass(frozen=True)
class Environment:
    """What services need besides the database: the rules, the pseudonym key, the hasher."""

    rules: CirculationRules
    pseudonyms: Pseudonymizer
    hasher: SecretHasher
    institution_id: str = "main"


@dataclass
class UnitOfWork:
    """A session inside one transaction, plus the environment services read."""

    session: Session
    env: Environment


class WriteBatch:
    """The shared transaction of a ``Store.batch()``; ``writes`` counts the writes that joined."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.writes = 0


class Store:
    """Hands out units of work: `with store.write() as uow:` commits on success."""

    def __init__(self, engine: Engine, env: Environment) -> None:
        self.engine = engine
        self.env = env
        writer = engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        reader = engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})
        self._writer = sessionmaker(writer, expire_on_commit=False, autoflush=True)
        self._reader = sessionmaker(reader, expire_on_commit=False, autoflush=True)
        self._local = threading.local()

    def _open_batch(self) -> WriteBatch | None:
        batch: WriteBatch | None = getattr(self._local, "batch", None)
        return batch

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction: takes the write lock at BEGIN, commits when the block succeeds.

        Inside a ``batch()`` on this thread it is a SAVEPOINT of the batch's transaction
        instead: released when the block succeeds, rolled back when it raises, committed with
        the batch.
        """
        batch = self._open_batch()
        if batch is not None:
            batch.writes += 1
            with batch.session.begin_nested():
                yield UnitOfWork(batch.session, self.env)
            return
        with self._writer() as session, session.begin():
            yield UnitOfWork(session, self.env)

    @contextmanager
    def batch(self) -> Iterator[WriteBatch]:
        """Group commit for the writes this thread makes inside the block (see module doc).

        Commits once when the block ends (if anything joined), rolls everything back when it
        raises. Batches do not nest.
        """
        if self._open_batch() is not None:
            raise StoreError("a write batch is already open on this thread")
        batch = WriteBatch(self._writer())
        self._local.batch = batch
        try:
            with batch.session:
                try:
                    yield batch
                finally:
                    self._local.batch = None
                if batch.session.in_transaction():
                    batch.session.commit()
        finally:
            self._local.batch = None

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A read-only transaction; anything written in it is discarded when the session closes.

        Closing (rather than rolling back) keeps loaded objects readable after the block.
        """
        with self._reader() as session:
            session.begin()
            yield UnitOfWork(session, self.env)

    def close(self) -> None:
        self.engine.dispose()
