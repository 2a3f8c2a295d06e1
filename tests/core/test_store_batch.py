"""Group commit: `Store.batch()` joins writes as savepoints of one transaction, committed once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import StoreError
from core.model import Record
from core.store.uow import Store


def _add(store: Store, title: str) -> None:
    with store.write() as uow:
        uow.session.add(Record(title=title, author="", isbn=""))
        uow.session.flush()


def _titles(store: Store) -> set[str]:
    with store.read() as uow:
        return set(uow.session.scalars(select(Record.title)))


def test_a_failing_write_in_a_batch_undoes_only_itself(store: Store) -> None:
    with store.batch() as batch:
        _add(store, "first")
        with pytest.raises(RuntimeError), store.write() as uow:
            uow.session.add(Record(title="failed", author="", isbn=""))
            uow.session.flush()
            raise RuntimeError("this job fails")
        _add(store, "third")
        assert batch.writes == 3
    assert _titles(store) == {"first", "third"}


def test_batch_writes_are_invisible_until_the_batch_commits(store: Store) -> None:
    with store.batch():
        _add(store, "pending")
        _add(store, "also pending")
        # read() uses its own connection: it sees only committed data.
        assert _titles(store) == set()
    assert _titles(store) == {"pending", "also pending"}


def test_a_batch_that_raises_commits_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.batch():
        _add(store, "lost")
        raise RuntimeError("the batch fails")
    assert _titles(store) == set()


def test_batches_do_not_nest_and_end_cleanly(store: Store) -> None:
    with store.batch(), pytest.raises(StoreError), store.batch():
        pass
    _add(store, "after")  # outside a batch again: an ordinary committed write
    assert _titles(store) == {"after"}


def test_an_empty_batch_is_fine(store: Store) -> None:
    with store.batch() as batch:
        assert batch.writes == 0
    assert _titles(store) == set()
