"""Worker processes take turns to run write batches (DatabaseExecutor ``writer_turn``)."""

from __future__ import annotations

import fcntl
import functools
import os
import threading
from pathlib import Path

import pytest
import trio
from sqlalchemy import select

from core.model import Record
from core.store.uow import Store, Transactions
from sip2.server._lanes import DatabaseExecutor


def _titles(tx: Transactions) -> set[str]:
    with tx.read() as uow:
        return set(uow.session.scalars(select(Record.title)))


def _write(tx: Transactions, title: str) -> str:
    with tx.write() as uow:
        uow.session.add(Record(title=title, author="", isbn=""))
    return title


@pytest.mark.trio
async def test_a_batch_waits_while_another_worker_has_the_turn(
    store: Store, tmp_path: Path
) -> None:
    turn = tmp_path / "reticent.db.sip2-turn"
    executor = DatabaseExecutor(store, writer_turn=turn)
    other = os.open(turn, os.O_RDWR | os.O_CREAT, 0o600)  # another worker process's batch
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        answers: list[str] = []

        async def write() -> None:
            answers.append(await executor.transact(_write, "after the turn"))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(write)
            await trio.sleep(0.2)
            while_held = (list(answers), _titles(store))
            fcntl.flock(other, fcntl.LOCK_UN)  # before any assertion: the batch must not hang
        assert while_held == ([], set())  # not run while the other worker had the turn
        assert answers == ["after the turn"]
        assert _titles(store) == {"after the turn"}
        # The executor gives the turn back when its batch ends, which may be just after the
        # answer reached its caller: the other worker gets it without waiting on anything.
        with trio.fail_after(5):
            while True:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await trio.sleep(0.01)
    finally:
        os.close(other)


@pytest.mark.trio
async def test_reads_of_a_batch_are_answered_before_it_waits_for_the_turn(
    store: Store, tmp_path: Path
) -> None:
    turn = tmp_path / "reticent.db.sip2-turn"
    executor = DatabaseExecutor(store, writer_turn=turn)
    started, release = threading.Event(), threading.Event()

    def blocker(_tx: Transactions) -> None:
        started.set()
        release.wait(10)

    other = os.open(turn, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)  # another worker is writing
        answered: list[str] = []

        async def write() -> None:
            await executor.transact(_write, "written")
            answered.append("write")

        async def read() -> None:
            await executor.transact(_titles, reads_only=True)
            answered.append("read")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                functools.partial(executor.transact, blocker, reads_only=True)
            )  # keeps the lane busy meanwhile
            with trio.fail_after(10):
                while not started.is_set():
                    await trio.sleep(0.001)
            nursery.start_soon(write)
            await trio.sleep(0.02)
            nursery.start_soon(read)
            await trio.sleep(0.02)
            release.set()  # the next batch: the write, then the read (which goes first)
            with trio.move_on_after(5):
                while "read" not in answered:
                    await trio.sleep(0.001)
            while_held = list(answered)
            fcntl.flock(other, fcntl.LOCK_UN)  # before any assertion: the batch must not hang
        assert while_held == ["read"]  # answered although the write still waited for the turn
        assert answered == ["read", "write"]
        assert _titles(store) == {"written"}
    finally:
        os.close(other)


@pytest.mark.trio
async def test_the_daily_job_holds_the_turn_while_it_runs(store: Store, tmp_path: Path) -> None:
    turn = tmp_path / "reticent.db.sip2-turn"
    executor = DatabaseExecutor(store, writer_turn=turn)
    other = os.open(turn, os.O_RDWR | os.O_CREAT, 0o600)  # another worker's side of the turn

    def daily_step() -> bool:
        _write(store, "purged in steps")
        try:  # while the step runs, no other worker can start a write batch
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other, fcntl.LOCK_UN)
        return False

    try:
        assert await executor.run_alone(daily_step) is True
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and it is free again afterwards
    finally:
        os.close(other)
    assert _titles(store) == {"purged in steps"}


@pytest.mark.trio
async def test_without_a_turn_file_batches_run_at_once(store: Store, tmp_path: Path) -> None:
    executor = DatabaseExecutor(store)
    assert await executor.transact(_write, "alone") == "alone"
    assert list(tmp_path.glob("*.sip2-turn")) == []
