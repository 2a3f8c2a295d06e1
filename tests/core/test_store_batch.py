"""Group commit: a `WriteBatch` joins writes as savepoints of one transaction, committed once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.model import Record
from core.store.uow import Store, Transactions


def _add(tx: Transactions, title: str) -> None:
    with tx.write() as uow:
        uow.session.add(Record(title=title, author="", isbn=""))
        uow.session.flush()


def _titles(tx: Transactions) -> set[str]:
    with tx.read() as uow:
        return set(uow.session.scalars(select(Record.title)))


def test_a_failing_write_in_a_batch_undoes_only_itself(store: Store) -> None:
    with store.batch() as batch:
        _add(batch, "first")
        with pytest.raises(RuntimeError), batch.write() as uow:
            uow.session.add(Record(title="failed", author="", isbn=""))
            uow.session.flush()
            raise RuntimeError("this job fails")
        _add(batch, "third")
        assert batch.writes == 3
    assert _titles(store) == {"first", "third"}


def test_batch_writes_are_invisible_to_others_until_the_batch_commits(store: Store) -> None:
    with store.batch() as batch:
        _add(batch, "pending")
        _add(batch, "also pending")
        assert _titles(store) == set()  # the store's own reads see committed data only
        assert _titles(batch) == {"pending", "also pending"}  # a read that joins sees them
    assert _titles(store) == {"pending", "also pending"}


def test_a_read_in_a_batch_keeps_nothing_it_changed(store: Store) -> None:
    with store.batch() as batch:
        _add(batch, "kept")
        with batch.read() as uow:
            uow.session.add(Record(title="discarded", author="", isbn=""))
            uow.session.flush()
    assert _titles(store) == {"kept"}


def test_a_batch_that_raises_commits_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.batch() as batch:
        _add(batch, "lost")
        raise RuntimeError("the batch fails")
    assert _titles(store) == set()


def test_the_store_writes_on_its_own_while_no_batch_is_given(store: Store) -> None:
    with store.batch() as batch:
        assert batch.writes == 0
    _add(store, "after")  # an ordinary committed write: no hidden batch state changes it
    assert _titles(store) == {"after"}
