"""Worker threads of the SIP2 server: one lane for the database, a pool for password hashing.

Group commit (``DatabaseExecutor`` with a store): database calls that queue up while one batch
runs are run together as the next batch, one after the other on one worker thread, inside
``Store.batch()``. Each call's ``store.write()`` is a SAVEPOINT of one shared transaction (a
call that fails undoes only its own writes) and the batch commits once: one fsync for all of
them. A call that wrote is answered only after that commit, so every answer still follows its
data to disk; a call that only read is answered as soon as it returns.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Callable
from typing import Final, Generic, TypeVar, TypeVarTuple

import outcome
import trio

from core.store.uow import Store

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# Calls in one batch at most: bounds how long the first of them waits for its answer.
MAX_BATCH: Final = 256


class _ThreadLane:
    """Blocking calls in worker threads, at most ``capacity`` at a time, first come first served."""

    def __init__(self, capacity: int, name: str) -> None:
        self._limiter = trio.CapacityLimiter(capacity)
        self._name = name

    @property
    def capacity(self) -> int:
        return int(self._limiter.total_tokens)

    async def run(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """Run ``fn(*args)`` in a worker thread and return its result.

        A caller cancelled while queued never runs ``fn``. A caller cancelled while ``fn`` runs
        waits for it to return (``abandon_on_cancel=False``): a transaction is never left
        running in a thread nobody waits for, so a client that disconnects mid-request leaves
        the store either fully committed or untouched, and shutdown never races a commit.
        """
        return await trio.to_thread.run_sync(
            fn, *args, limiter=self._limiter, abandon_on_cancel=False, thread_name=self._name
        )


class _Job(Generic[T]):
    """One queued database call and, once it is final, its outcome."""

    def __init__(self, call: Callable[[], T]) -> None:
        self.call = call
        self.taken = False  # part of a batch: it will run (or has run) to the end
        self.result: outcome.Outcome[T] | None = None
        self.wake = trio.Event()  # set when the result is final, or to offer leadership

    def finish(self, result: outcome.Outcome[T]) -> None:
        self.result = result
        self.wake.set()


class DatabaseExecutor(_ThreadLane):
    """The one lane for database work in the trio process (DESIGN.md "Process model").

    SQLite allows one writer; running every store call one after the other in arrival order
    keeps the event loop free and the writer uncontended. Share one instance between the SIP2
    server and anything else in the process that touches the store. Given a store (here or
    through ``bind``), calls are group-committed (module doc); without one, each call runs on
    its own, as ``_ThreadLane.run``.
    """

    def __init__(self, store: Store | None = None) -> None:
        super().__init__(1, "reticent-db")
        self._store = store
        self._queue: deque[_Job[object]] = deque()
        self._leading = False

    @property
    def store(self) -> Store | None:
        return self._store

    def bind(self, store: Store) -> None:
        """Group-commit through ``store`` from now on (the store the calls write to)."""
        self._store = store

    async def run(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """Run ``fn(*args)`` on the database thread, in the next batch; return its result.

        Cancellation keeps the guarantees of ``_ThreadLane.run``: a call still queued is
        dropped and never runs; a call already in a batch is waited for (its writes commit or
        roll back with the batch, never half), then the cancellation goes on.
        """
        if self._store is None:
            return await super().run(fn, *args)
        job: _Job[T] = _Job(functools.partial(fn, *args))
        self._queue.append(job)  # type: ignore[arg-type]
        try:
            while job.result is None:
                if not job.taken and not self._leading:
                    await self._lead()  # the batch takes this job too
                else:
                    await self._woken(job)
        except trio.Cancelled:
            if not job.taken:
                self._queue.remove(job)  # type: ignore[arg-type]
                self._offer_lead()
                raise
            with trio.CancelScope(shield=True):
                while job.result is None:
                    await self._woken(job)
            raise
        assert job.result is not None
        return job.result.unwrap()

    async def run_alone(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """Run ``fn(*args)`` on the database lane outside any batch, for work that commits in
        steps of its own (the daily retention job); it waits its turn like any call."""
        return await super().run(fn, *args)

    @staticmethod
    async def _woken(job: _Job[T]) -> None:
        await job.wake.wait()
        if job.result is None:
            job.wake = trio.Event()  # woken to lead, or the lead moved on: wait again

    def _offer_lead(self) -> None:
        if not self._leading and self._queue:
            self._queue[0].wake.set()

    async def _lead(self) -> None:
        """Run the queued calls as one batch on the worker thread, then hand the lead on."""
        self._leading = True
        batch: list[_Job[object]] = []
        while self._queue and len(batch) < MAX_BATCH:
            job = self._queue.popleft()
            job.taken = True
            batch.append(job)
        token = trio.lowlevel.current_trio_token()
        try:
            await trio.to_thread.run_sync(
                self._run_batch,
                batch,
                token,
                limiter=self._limiter,
                abandon_on_cancel=False,
                thread_name=self._name,
            )
        finally:
            self._leading = False
            self._offer_lead()

    def _run_batch(self, batch: list[_Job[object]], token: trio.lowlevel.TrioToken) -> None:
        """On the worker thread: every call in turn inside one ``Store.batch()``, then commit."""
        assert self._store is not None
        done: set[int] = set()
        held: list[tuple[_Job[object], outcome.Outcome[object]]] = []
        try:
            with self._store.batch() as shared:
                for job in batch:
                    writes = shared.writes
                    result = outcome.capture(job.call)
                    if shared.writes == writes:
                        done.add(id(job))
                        token.run_sync_soon(job.finish, result)  # read only: answer now
                    else:
                        held.append((job, result))
        except BaseException as error:
            # Nothing held was committed: every call still waiting gets the error.
            for job in batch:
                if id(job) not in done:
                    token.run_sync_soon(job.finish, outcome.Error(error))
            if not isinstance(error, Exception):
                raise
            return
        for job, answer in held:
            token.run_sync_soon(job.finish, answer)


class HashWorkers(_ThreadLane):
    """argon2 checks, one thread per CPU, so PIN and login checks never hold up the database."""

    def __init__(self, capacity: int | None = None) -> None:
        super().__init__(capacity or os.cpu_count() or 1, "reticent-hash")
