"""Group commit in the database executor: one commit per batch, answers only after it."""

from __future__ import annotations

import threading

import pytest
import trio
from sqlalchemy import select

from core.model import Record
from core.store.uow import Store
from sip2._server_workers import DatabaseExecutor


def _titles(store: Store) -> set[str]:
    with store.read() as uow:
        return set(uow.session.scalars(select(Record.title)))


def _write(store: Store, title: str, fail: bool = False) -> str:
    with store.write() as uow:
        uow.session.add(Record(title=title, author="", isbn=""))
        uow.session.flush()
        if fail:
            raise RuntimeError(f"{title} fails")
    return title


def _blocker(started: threading.Event, release: threading.Event) -> str:
    started.set()
    release.wait(10)
    return "blocker"


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
            answers[title] = await executor.run(_write, store, title, fail)
        except RuntimeError as error:
            answers[title] = str(error)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(executor.run, _blocker, started, release)
        await _wait_for(started)  # the first batch is busy: the next three queue up together
        nursery.start_soon(call, "one")
        nursery.start_soon(call, "two", True)
        nursery.start_soon(call, "three")
        await trio.sleep(0.05)
        release.set()
    assert answers == {"one": "one", "two": "two fails", "three": "three"}
    assert _titles(store) == {"one", "three"}


@pytest.mark.trio
async def test_a_write_is_answered_only_after_its_batch_commits(store: Store) -> None:
    executor = DatabaseExecutor(store)
    first_started, first_release = threading.Event(), threading.Event()
    later_started, later_release = threading.Event(), threading.Event()
    answered: list[str] = []
    seen_at_answer: dict[str, set[str]] = {}

    async def write(title: str) -> None:
        answered.append(await executor.run(_write, store, title))
        seen_at_answer[title] = _titles(store)

    async def read() -> None:
        await executor.run(_titles, store)
        answered.append("read")

    async def block_later() -> None:
        answered.append(await executor.run(_blocker, later_started, later_release))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(executor.run, _blocker, first_started, first_release)
        await _wait_for(first_started)
        nursery.start_soon(write, "durable")
        await trio.sleep(0.02)
        nursery.start_soon(read)
        await trio.sleep(0.02)
        nursery.start_soon(block_later)
        await trio.sleep(0.02)
        first_release.set()  # next batch: write, read, then a call that holds the batch open
        await _wait_for(later_started)
        with trio.fail_after(10):
            while "read" not in answered:
                await trio.sleep(0.001)
        # The read was answered at once; the write waits for the commit at the end of the batch.
        assert answered == ["read"]
        assert _titles(store) == set()
        later_release.set()
    assert answered == ["read", "blocker", "durable"] or answered == ["read", "durable", "blocker"]
    assert seen_at_answer["durable"] == {"durable"}


@pytest.mark.trio
async def test_a_call_cancelled_while_queued_never_runs(store: Store) -> None:
    executor = DatabaseExecutor(store)
    started, release = threading.Event(), threading.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(executor.run, _blocker, started, release)
        await _wait_for(started)
        with trio.move_on_after(0.05) as scope:
            await executor.run(_write, store, "never")
        assert scope.cancelled_caught
        release.set()
    assert await executor.run(_titles, store) == set()


@pytest.mark.trio
async def test_a_call_cancelled_inside_its_batch_still_commits_whole(store: Store) -> None:
    executor = DatabaseExecutor(store)
    started, release = threading.Event(), threading.Event()

    def write_then_block() -> None:
        with store.write() as uow:
            uow.session.add(Record(title="a", author="", isbn=""))
            uow.session.flush()
            _blocker(started, release)
            uow.session.add(Record(title="b", author="", isbn=""))

    async with trio.open_nursery() as nursery:
        with trio.CancelScope() as scope:
            nursery.start_soon(lambda: executor.run(write_then_block))
            await _wait_for(started)
            nursery.cancel_scope.cancel()  # the client went away mid-transaction
            release.set()
        assert not scope.cancelled_caught
    assert _titles(store) == {"a", "b"}


@pytest.mark.trio
async def test_without_a_store_calls_run_one_by_one(store: Store) -> None:
    executor = DatabaseExecutor()
    assert await executor.run(_write, store, "alone") == "alone"
    assert _titles(store) == {"alone"}
