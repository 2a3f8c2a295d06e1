"""Worker threads of the SIP2 server: one lane for the database, a pool for password hashing.

Group commit (``DatabaseExecutor.transact``): calls that queue up while one batch runs are run
together as the next batch, one after the other on the database thread, each handed the
batch's ``WriteBatch`` as its first argument. Each ``batch.write()`` is a SAVEPOINT of one
shared transaction (a call that fails undoes only its own writes) and the batch commits once:
one fsync for all of them.

No answer reports a state that is not yet durable: a call is answered before the commit only
if neither it nor any call before it in the batch wrote (it then read committed data only);
every other call of the batch is answered after the commit, reads included, since a read
after a write of the batch sees that write (``WriteBatch.read``). The one exception is asked
for by name (``before_commit``): the PIN attempt counter, whose result goes to the hash lane
and never to a terminal, whose answer comes from a later call, in a later batch.
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

from core.store.uow import Store, Transactions, WriteBatch

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

    def __init__(
        self,
        call: Callable[[WriteBatch], T] | None,
        alone: Callable[[], T] | None = None,
        *,
        reads_only: bool = False,
        before_commit: bool = False,
    ) -> None:
        self.call = call  # joins the batch
        self.alone = alone  # runs on its own, outside the batch
        self.reads_only = reads_only  # the caller's word: may run outside the writer turn
        self.before_commit = before_commit
        self.taken = False  # part of a batch: it will run (or has run) to the end
        self.result: outcome.Outcome[T] | None = None
        self.wake = trio.Event()  # set when the result is final

    def finish(self, result: outcome.Outcome[T]) -> None:
        self.result = result
        self.wake.set()


class DatabaseExecutor:
    """The one lane for database work in the trio process (docs/architecture.md, "Process model").

    SQLite allows one writer; running every store call one after the other in arrival order
    keeps the event loop free and the writer uncontended. Share one instance between the SIP2
    server and anything else in the process that touches the store (the daily job uses
    ``run``). ``transact`` needs the store (given here or through ``bind``).

    ``writer_turn`` (a file path), for one of several worker processes on one database: each
    batch first takes an exclusive ``flock`` on that file, so the processes' batches take turns.
    Without it they would meet on SQLite's own write lock, whose waiter sleeps in growing steps
    (up to 100 ms) and can keep missing the moments the lock is free while the other process,
    never sleeping, takes it again: seconds of waiting. A ``flock`` waiter is woken at once.
    """

    def __init__(self, store: Store | None = None, *, writer_turn: Path | None = None) -> None:
        self._store = store
        self._writer_turn = writer_turn
        self._turn_fd: int | None = None  # opened by the worker thread, in this process
        self._queue: deque[_Job[object]] = deque()
        self._running = False  # a batch is on the database thread
        # Finished calls on their way back to the event loop (see _post).
        self._mailbox: deque[tuple[_Job[object], outcome.Outcome[object]]] = deque()
        self._mail_lock = threading.Lock()
        self._wake_pending = False

    @property
    def store(self) -> Store | None:
        return self._store

    def queue_depth(self) -> int:
        """Calls waiting for the next batch (read by the metrics endpoint, from its thread)."""
        return len(self._queue)

    def bind(self, store: Store) -> None:
        """Group-commit through ``store`` from now on (the store the calls write to)."""
        self._store = store

    async def transact(
        self,
        fn: Callable[[Transactions, *Ts], T],
        *args: *Ts,
        reads_only: bool = False,
        before_commit: bool = False,
    ) -> T:
        """Run ``fn(batch, *args)`` on the database thread in the next batch; return its result.

        The result comes back once it is durable (module doc). ``reads_only``: the caller's
        word that ``fn`` only reads; with a ``writer_turn`` such calls run before their batch
        takes the turn, alongside the other workers' batches (a call that writes anyway is
        still correct: SQLite's lock and busy timeout serialise it). ``before_commit``: hand
        the result back as soon as ``fn`` returns (module doc says when that is allowed).

        Cancellation: a call still queued is dropped and never runs; a call already in a batch
        is waited for (its writes commit or roll back with the batch, never half), then the
        cancellation goes on. So a client that disconnects mid-request leaves the store either
        fully committed or untouched, and shutdown never races a commit.
        """
        if self._store is None:
            raise RuntimeError("transact needs the store: give it to DatabaseExecutor or bind()")

        def call(batch: WriteBatch) -> T:
            return fn(batch, *args)

        return await self._submit(_Job(call, reads_only=reads_only, before_commit=before_commit))

    async def run(self, fn: Callable[[*Ts], T], *args: *Ts) -> T:
        """Run ``fn(*args)`` on the database lane outside any batch, for work that opens its own
        transactions (the daily retention job commits in steps); it waits its turn like any
        call. With a ``writer_turn`` it holds the turn throughout, so the other workers' writes
        wait for it as this process's own calls do, rather than on SQLite's busy timeout."""
        return await self._submit(_Job(None, functools.partial(fn, *args)))

    # The daily job's name for ``run`` (config/cli/serve.py).
    run_alone = run

    def _in_turn(self, call: Callable[[], T]) -> T:
        with self._turn():
            return call()

    async def _submit(self, job: _Job[T]) -> T:
        self._queue.append(job)  # type: ignore[arg-type]
        if not self._running:
            self._start_batch()
        try:
            await job.wake.wait()
        except trio.Cancelled:
            if not job.taken:
                self._queue.remove(job)  # type: ignore[arg-type]
                raise
            with trio.CancelScope(shield=True):
                await job.wake.wait()
            raise
        assert job.result is not None
        return job.result.unwrap()

    def _start_batch(self) -> None:
        """Run the queued calls as one batch on the database thread (no task waits for it:
        each call is answered as soon as it may be, the first one included)."""
        batch: list[_Job[object]] = []
        while self._queue and len(batch) < MAX_BATCH:
            job = self._queue.popleft()
            job.taken = True
            batch.append(job)
        self._running = True
        token = trio.lowlevel.current_trio_token()

        def done(result: outcome.Outcome[None]) -> None:  # on the database thread, at the end
            # The event loop may be gone: a call answered before the commit let its caller
            # finish, and nobody waits for the rest.
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(self._batch_done, batch, result)

        trio.lowlevel.start_thread_soon(
            functools.partial(self._run_batch, batch, token), done, name="reticent-db"
        )

    def _batch_done(self, batch: list[_Job[object]], result: outcome.Outcome[None]) -> None:
        """On the event loop, after the batch's answers: start the next batch if calls wait."""
        self._running = False
        if isinstance(result, outcome.Error):  # the lane itself failed (the turn file, say)
            for job in batch:
                if job.result is None:
                    job.finish(result)
        if self._queue:
            self._start_batch()

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
        with contextlib.suppress(trio.RunFinishedError):
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
        """On the worker thread: this process's turn to write (see class doc)."""
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
        """On the worker thread: the calls that run alone, then the others in one batch.

        With a writer turn, the calls marked read-only run first, without it. The calls of one
        batch come from different connections (one request at a time on each), so any order
        among them is an order they could have arrived in.
        """
        for job in batch:
            if job.alone is not None:
                self._post(token, [(job, outcome.capture(self._in_turn, job.alone))])
        joining = [job for job in batch if job.call is not None]
        if not joining:
            return
        if self._writer_turn is None:
            self._run_joined(joining, token)
            return
        reads = [job for job in joining if job.reads_only]
        if reads:
            self._run_joined(reads, token)
        others = [job for job in joining if not job.reads_only]
        if others:
            with self._turn():
                held = self._run_joined(others, token, post_held=False)
            if held:  # once the other workers may write again
                self._post(token, held)

    def _run_joined(
        self, batch: list[_Job[object]], token: trio.lowlevel.TrioToken, *, post_held: bool = True
    ) -> list[tuple[_Job[object], outcome.Outcome[object]]]:
        """Run ``batch`` in one ``Store.batch()``; post the answers, or return those held for
        the commit when ``post_held`` is False."""
        assert self._store is not None
        done: set[int] = set()
        held: list[tuple[_Job[object], outcome.Outcome[object]]] = []
        try:
            with self._store.batch() as shared:
                for job in batch:
                    assert job.call is not None
                    result = outcome.capture(job.call, shared)
                    if shared.writes == 0 or job.before_commit:
                        # Nothing of this batch written yet: it read committed data only.
                        done.add(id(job))
                        self._post(token, [(job, result)])
                    else:
                        held.append((job, result))
        except BaseException as error:
            # Nothing held was committed: every call still waiting gets the error.
            failed: outcome.Outcome[object] = outcome.Error(error)
            self._post(token, [(job, failed) for job in batch if id(job) not in done])
            if not isinstance(error, Exception):
                raise
            return []
        if held and post_held:
            self._post(token, held)
            return []
        return held


class HashWorkers(_ThreadLane):
    """argon2 checks, one thread per CPU, so PIN and login checks never hold up the database."""

    def __init__(self, capacity: int | None = None) -> None:
        super().__init__(capacity or os.cpu_count() or 1, "reticent-hash")
