"""Units of work: one session and one transaction, committed by the caller, never by services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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
    def read(self) -> Iterator[UnitOfWork]:
        """A read-only transaction; anything written in it is discarded when the session closes.

        Closing (rather than rolling back) keeps loaded objects readable after the block.
        """
        with self._reader() as session:
            session.begin()
            yield UnitOfWork(session, self.env)

    def close(self) -> None:
        self.engine.dispose()
