"""Group commit in the database executor: one commit per batch, answers only after it."""

from __future__ import annotations

import functools
import threading

import pytest
import trio
from sqlalchemy import select

from core.model import Record
from core.store.uow import Store, Transactions
from sip2.server._lanes import DatabaseExecutor


def _titles(tx: Transactions) -> set[str]:
    with tx.read() as uow:
        return set(uow.session.scalars(select(Record.title)))


def _write(tx: Transactions, title: str, fail: bool = False) -> str:
    with tx.write() as uow:
        uow.session.add(Record(title=title, author="", isbn=""))
        uow.session.flush()
        if fail:
            raise RuntimeError(f"{title} fails")
    return title


def _blocker(started: threading.Event, release: threading.Event) -> str:
    started.set()
    release.wait(10)
    return "blocker"


def _joined_blocker(_tx: Transactions, started: threading.Event, release: threading.Event) -> str:
    return _blocker(started, release)


async def _wait_for(event: threading.Event) -> None:
    with trio.fail_after(10):
        while not event.is_set():
            await trio.sleep(0.001)


@pytest.mark.trio
async def test_a_failing_call_in_a_batch_does_not_undo_the_others(store: Store) -> None:
    executor = DatabaseExecutor(store)
    started, release = threading.Event(), threading.Event()
    answers: dict[str, str] = {}

    async def call(title: str, fail: bool = False) -> None:
        try:
            answers[title] = await executor.transact(_write, title, fail)
        except RuntimeError as error:
            answers[title] = str(error)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(executor.run, _blocker, started, release)
        await _wait_for(started)  # the lane is busy: the next three queue up together
        nursery.start_soon(call, "one")
        nursery.start_soon(call, "two", True)
        nursery.start_soon(call, "three")
        await trio.sleep(0.05)
        release.set()
    assert answers == {"one": "one", "two": "two fails", "three": "three"}
    assert _titles(store) == {"one", "three"}


@pytest.mark.trio
async def test_no_answer_reports_a_state_that_is_not_yet_durable(store: Store) -> None:
    executor = DatabaseExecutor(store)
    first_started, first_release = threading.Event(), threading.Event()
    later_started, later_release = threading.Event(), threading.Event()
    answered: list[str] = []
    seen: dict[str, set[str]] = {}

    async def write(title: str) -> None:
        answered.append(await executor.transact(_write, title))
        seen[title] = _titles(store)

    async def read(name: str) -> None:
        seen[name] = await executor.transact(_titles)
        answered.append(name)

    async def block_later() -> None:
        answered.append(await executor.transact(_joined_blocker, later_started, later_release))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(executor.run, _blocker, first_started, first_release)
        await _wait_for(first_started)
        # The next batch, in this order: a read, a write, a read, a call that holds it open.
        for step in (
            functools.partial(read, "read before"),
            functools.partial(write, "durable"),
            functools.partial(read, "read after"),
            block_later,
        ):
            nursery.start_soon(step)
            await trio.sleep(0.02)
        first_release.set()
        await _wait_for(later_started)
        with trio.fail_after(10):
            while "read before" not in answered:
                await trio.sleep(0.001)
        await trio.sleep(0.05)
        # Only the read that came before any write of the batch is answered before the commit.
        assert answered == ["read before"]
        assert _titles(store) == set()
        later_release.set()
    assert set(answered) == {"read before", "durable", "read after", "blocker"}
    assert seen["read before"] == set()
    assert seen["read after"] == {"durable"}  # it saw the write, so it waited for its commit
    assert seen["durable"] == {"durable"}


@pytest.mark.trio
async def test_a_call_cancelled_while_queued_never_runs(store: Store) -> None:
    executor = DatabaseExecutor(store)
    started, release = threading.Event(), threading.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(executor.run, _blocker, started, release)
        await _wait_for(started)
        with trio.move_on_after(0.05) as scope:
            await executor.transact(_write, "never")
        assert scope.cancelled_caught
        release.set()
    assert await executor.transact(_titles) == set()


@pytest.mark.trio
async def test_a_call_cancelled_inside_its_batch_still_commits_whole(store: Store) -> None:
    executor = DatabaseExecutor(store)
    started, release = threading.Event(), threading.Event()

    def write_then_block(tx: Transactions) -> None:
        with tx.write() as uow:
            uow.session.add(Record(title="a", author="", isbn=""))
            uow.session.flush()
            _blocker(started, release)
            uow.session.add(Record(title="b", author="", isbn=""))

    async with trio.open_nursery() as nursery:
        with trio.CancelScope() as scope:
            nursery.start_soon(lambda: executor.transact(write_then_block))
            await _wait_for(started)
            nursery.cancel_scope.cancel()  # the client went away mid-transaction
            release.set()
        assert not scope.cancelled_caught
    assert _titles(store) == {"a", "b"}


@pytest.mark.trio
async def test_run_commits_on_its_own_and_transact_needs_the_store(store: Store) -> None:
    executor = DatabaseExecutor()
    assert await executor.run(_write, store, "alone") == "alone"
    assert _titles(store) == {"alone"}
    with pytest.raises(RuntimeError, match="needs the store"):
        await executor.transact(_titles)
