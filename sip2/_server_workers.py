"""Worker threads of the SIP2 server: one lane for the database, a pool for password hashing.

Group commit (``DatabaseExecutor`` with a store): database calls that queue up while one batch
runs are run together as the next batch, one after the other on one worker thread, inside
``Store.batch()``. Each call's ``store.write()`` is a SAVEPOINT of one shared transaction (a
call that fails undoes only its own writes) and the batch commits once: one fsync for all of
them. A call that wrote is answered only after that commit, so every answer still follows its
data to disk; a call that only read is answered as soon as it returns.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
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

    def __init__(self, call: Callable[[], T], reads_only: bool = False) -> None:
        self.call = call
        self.reads_only = reads_only  # the caller's word: may run outside the writer turn
        self.taken = False  # part of a batch: it will run (or has run) to the end
        self.result: outcome.Outcome[T] | None = None
        self.wake = trio.Event()  # set when the result is final, or to offer leadership

    def finish(self, result: outcome.Outcome[T]) -> None:
        self.result = result
        self.wake.set()


class DatabaseExecutor(_ThreadLane):
    """The one lane for database work in the trio process (docs/architecture.md, "Process model").

    SQLite allows one writer; running every store call one after the other in arrival order
    keeps the event loop free and the writer uncontended. Share one instance between the SIP2
    server and anything else in the process that touches the store. Given a store (here or
    through ``bind``), calls are group-committed (module doc); without one, each call runs on
    its own, as ``_ThreadLane.run``.

    ``writer_turn`` (a file path), for one of several worker processes on one database: each
    batch first takes an exclusive ``flock`` on that file, so the processes' batches take turns.
    Without it they would meet on SQLite's own write lock, whose waiter sleeps in growing steps
    (up to 100 ms) and can keep missing the moments the lock is free while the other process,
    never sleeping, takes it again: seconds of waiting. A ``flock`` waiter is woken at once.
    """

    def __init__(self, store: Store | None = None, *, writer_turn: Path | None = None) -> None:
        super().__init__(1, "reticent-db")
        self._store = store
        self._writer_turn = writer_turn
        self._turn_fd: int | None = None  # opened by the worker thread, in this process
        self._queue: deque[_Job[object]] = deque()
        self._leading = False
        # Finished calls on their way back to the event loop (see module doc).
        self._mailbox: deque[tuple[_Job[object], outcome.Outcome[object]]] = deque()
        self._mail_lock = threading.Lock()
        self._wake_pending = False

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
        return await self._submit(_Job(functools.partial(fn, *args)))

    async def run_read(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """``run`` for a call that only reads (``store.read()``).

        With a ``writer_turn``, such calls run before their batch takes the turn, alongside the
        other workers' batches. A call that writes anyway is still correct (SQLite's own write
        lock and busy timeout serialise it), only not helped by the turn.
        """
        if self._store is None:
            return await super().run(fn, *args)
        return await self._submit(_Job(functools.partial(fn, *args), reads_only=True))

    async def _submit(self, job: _Job[T]) -> T:
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
        steps of its own (the daily retention job); it waits its turn like any call. With a
        ``writer_turn`` it holds the turn throughout, so the other workers' writes wait for it
        as this process's own calls do, rather than on SQLite's busy timeout."""
        if self._writer_turn is None:
            return await super().run(fn, *args)
        return await super().run(self._in_turn, functools.partial(fn, *args))

    def _in_turn(self, call: Callable[[], T]) -> T:
        with self._turn():
            return call()

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

    def _post(
        self,
        token: trio.lowlevel.TrioToken,
        answers: list[tuple[_Job[object], outcome.Outcome[object]]],
    ) -> None:
        """On the worker thread: hand finished calls to the event loop, waking it at most once."""
        with self._mail_lock:
            self._mailbox.extend(answers)
            if self._wake_pending:
                return  # the event loop has not emptied the mailbox yet: it will take these too
            self._wake_pending = True
        token.run_sync_soon(self._deliver)

    def _deliver(self) -> None:
        """On the event loop: answer every call in the mailbox."""
        with self._mail_lock:
            self._wake_pending = False
            answers = list(self._mailbox)
            self._mailbox.clear()
        for job, result in answers:
            job.finish(result)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """On the worker thread: this process's turn to run a batch (see class doc)."""
        if self._writer_turn is None:
            yield
            return
        if self._turn_fd is None:
            self._turn_fd = os.open(self._writer_turn, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._turn_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def _run_batch(self, batch: list[_Job[object]], token: trio.lowlevel.TrioToken) -> None:
        """On the worker thread: every call in turn inside one ``Store.batch()``, then commit.

        With a writer turn, the calls marked read-only run first, without it. The calls of one
        batch come from different connections (one request at a time on each), so any order
        among them is an order they could have arrived in.
        """
        if self._writer_turn is None:
            self._run_batch_now(batch, token)
            return
        reads = [job for job in batch if job.reads_only]
        if reads:
            self._run_batch_now(reads, token)
        others = [job for job in batch if not job.reads_only]
        if others:
            with self._turn():
                self._run_batch_now(others, token)

    def _run_batch_now(self, batch: list[_Job[object]], token: trio.lowlevel.TrioToken) -> None:
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
                        self._post(token, [(job, result)])  # read only: answer now
                    else:
                        held.append((job, result))
        except BaseException as error:
            # Nothing held was committed: every call still waiting gets the error.
            failed: outcome.Outcome[object] = outcome.Error(error)
            self._post(token, [(job, failed) for job in batch if id(job) not in done])
            if not isinstance(error, Exception):
                raise
            return
        if held:
            self._post(token, held)


class HashWorkers(_ThreadLane):
    """argon2 checks, one thread per CPU, so PIN and login checks never hold up the database."""

    def __init__(self, capacity: int | None = None) -> None:
        super().__init__(capacity or os.cpu_count() or 1, "reticent-hash")
