"""Worker threads of the SIP2 server: one lane for the database, a pool for password hashing."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import trio

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


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


class DatabaseExecutor(_ThreadLane):
    """The one lane for database work in the trio process (DESIGN.md "Process model").

    SQLite allows one writer; running every store call one after the other in arrival order
    keeps the event loop free and the writer uncontended. Share one instance between the SIP2
    server and anything else in the process that touches the store.
    """

    def __init__(self) -> None:
        super().__init__(1, "reticent-db")


class HashWorkers(_ThreadLane):
    """argon2 checks, one thread per CPU, so PIN and login checks never hold up the database."""

    def __init__(self, capacity: int | None = None) -> None:
        super().__init__(capacity or os.cpu_count() or 1, "reticent-hash")
