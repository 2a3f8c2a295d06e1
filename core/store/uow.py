"""Units of work: one session and one transaction, committed by the caller, never by services.

Group commit: ``with store.batch() as batch:`` gives an explicit ``WriteBatch``; every
``batch.write()`` joins one shared transaction, each in its own SAVEPOINT, and the batch
commits once at its end. With ``synchronous = FULL`` that is one fsync for the whole batch
instead of one per write. A write whose block raises rolls back its own savepoint only; the
others stay. Nothing written in a batch is durable (or visible to other connections) before
the batch commits, so callers hand out what a joined write or a read after one returned only
after the batch block has ended without error. Code that may run in a batch or on its own
takes ``Transactions`` (a ``Store`` or a ``WriteBatch``) as a parameter: nothing changes what
``Store.write()`` means behind its back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

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


class Transactions(Protocol):
    """Where units of work come from: a ``Store``, or a ``WriteBatch`` of group commit."""

    def write(self) -> AbstractContextManager[UnitOfWork]: ...

    def read(self) -> AbstractContextManager[UnitOfWork]: ...


class WriteBatch:
    """The shared transaction of a ``Store.batch()``, handed to the code that joins it.

    ``writes`` counts the writes that joined. A ``read()`` before any write reads committed
    data on its own connection; after one it reads inside the batch, so it sees the batch's
    writes and, like them, must be answered only once the batch has committed.
    """

    def __init__(self, store: Store, session: Session) -> None:
        self._store = store
        self.session = session
        self.writes = 0

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A SAVEPOINT of the batch: released when the block succeeds, rolled back if it raises."""
        self.writes += 1
        with self.session.begin_nested():
            yield UnitOfWork(self.session, self._store.env)

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """Committed data before the batch wrote; the batch's own state after (see class doc)."""
        if self.writes == 0:
            with self._store.read() as uow:
                yield uow
            return
        savepoint = self.session.begin_nested()
        try:
            yield UnitOfWork(self.session, self._store.env)
        finally:
            savepoint.rollback()  # a read keeps nothing it may have changed


class Store:
    """Hands out units of work: `with store.write() as uow:` commits on success."""

    def __init__(self, engine: Engine, env: Environment) -> None:
        self.engine = engine
        self.env = env
        writer = engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        reader = engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})
        self._writer = sessionmaker(writer, expire_on_commit=False, autoflush=True)
        self._reader = sessionmaker(reader, expire_on_commit=False, autoflush=True)

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction: takes the write lock at BEGIN, commits when the block succeeds."""
        with self._writer() as session, session.begin():
            yield UnitOfWork(session, self.env)

    @contextmanager
    def batch(self) -> Iterator[WriteBatch]:
        """Group commit for the writes made through the batch (see module doc).

        Commits once when the block ends (if anything joined), rolls everything back when it
        raises.
        """
        with self._writer() as session:
            batch = WriteBatch(self, session)
            yield batch
            if session.in_transaction():
                session.commit()

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
