"""Several SIP2 worker processes under one parent: start, stop gracefully, restart the dead.

One trio process serves on at most one core (the event loop and the database thread share the
GIL). With ``[sip2] workers`` above 1, ``supervise`` forks that many workers; each runs the
whole SIP2 server (its own store connections, database executor and group commit, listening
with ``SO_REUSEPORT``, see ``sip2.server._sockets``). SQLite serialises their writes (WAL,
``BEGIN IMMEDIATE``, busy timeout), so every answer still follows its own commit to disk.

The parent holds no database connection and no thread: it only forks, forwards the stop
signal and reaps. SIGTERM or SIGINT (Ctrl-C) to the parent sends one SIGTERM to every worker,
which drains as a single process does (``serve_sip2``); a second signal, or the grace period
running out, kills what is left. A worker that dies on its own is restarted after
``RestartPolicy.delay_s``, at most ``max_restarts`` times within ``window_s``; beyond that the
parent stops the others and exits with an error rather than restarting a broken worker forever.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

log = logging.getLogger("reticent.sip2")

_STOP_SIGNALS: Final = frozenset({signal.SIGTERM, signal.SIGINT})
_WATCHED: Final = frozenset({signal.SIGCHLD, *_STOP_SIGNALS})
_PR_SET_PDEATHSIG: Final = 1
# Beyond the workers' own grace period: closing the store and the process itself.
KILL_MARGIN_S: Final = 5.0


@dataclass(frozen=True)
class RestartPolicy:
    """How a worker that dies on its own is replaced (see module doc)."""

    max_restarts: int = 5
    window_s: float = 60.0
    delay_s: float = 0.5

    def __post_init__(self) -> None:
        if self.max_restarts < 0:
            raise ValueError("max_restarts must not be negative")
        if not self.window_s > 0 or not self.delay_s >= 0:
            raise ValueError("window_s must be positive and delay_s not negative")


def _die_with_parent() -> None:
    """Linux: the kernel sends this worker SIGTERM if the parent dies, so no worker is orphaned
    still holding the port. Elsewhere nothing happens (the parent still stops its workers)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def _flush_and_exit(code: int) -> None:
    with contextlib.suppress(Exception):
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


class _Supervisor:
    def __init__(
        self,
        run_worker: Callable[[int], int],
        workers: int,
        stop_grace_s: float,
        policy: RestartPolicy,
        parent_mask: set[int | signal.Signals],
    ) -> None:
        self.run_worker = run_worker
        self.workers = workers
        self.stop_grace_s = stop_grace_s
        self.policy = policy
        self.parent_mask = parent_mask
        self.children: dict[int, int] = {}  # pid -> worker index
        self.pending: list[tuple[float, int]] = []  # (when, worker index) restarts to make
        self.recent: deque[float] = deque()  # when workers died on their own, within the window
        self.stopping = False
        self.failed = False
        self.kill_at: float | None = None

    def start(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the parent's frames
            code = 1
            try:
                # Ctrl-C reaches the whole process group; the parent turns it into one SIGTERM.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.pthread_sigmask(signal.SIG_SETMASK, self.parent_mask)
                _die_with_parent()
                code = self.run_worker(index)
            except BaseException as error:
                log.error(
                    "worker failed",
                    extra={"fields": {"worker": index, "error": type(error).__name__}},
                )
            finally:
                _flush_and_exit(code)
        self.children[pid] = index
        log.info("worker started", extra={"fields": {"worker": index, "pid": pid}})

    def signal_all(self, signum: signal.Signals) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        self.pending.clear()
        self.signal_all(signal.SIGTERM)
        self.kill_at = time.monotonic() + self.stop_grace_s + KILL_MARGIN_S

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            index = self.children.pop(pid, None)
            if index is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            fields = {"worker": index, "pid": pid, "exit": code}
            if self.stopping:
                log.info("worker stopped", extra={"fields": fields})
                continue
            log.error("worker died", extra={"fields": fields})
            self.restart_later(index)

    def restart_later(self, index: int) -> None:
        now = time.monotonic()
        self.recent.append(now)
        while self.recent and self.recent[0] < now - self.policy.window_s:
            self.recent.popleft()
        if len(self.recent) > self.policy.max_restarts:
            log.error(
                "workers keep dying: stopping",
                extra={"fields": {"died": len(self.recent), "within_s": self.policy.window_s}},
            )
            self.failed = True
            self.stop()
            return
        self.pending.append((now + self.policy.delay_s, index))

    def timeout(self) -> float | None:
        moments = [when for when, _ in self.pending]
        if self.kill_at is not None:
            moments.append(self.kill_at)
        return max(0.0, min(moments) - time.monotonic()) if moments else None

    def run(self) -> int:
        for index in range(self.workers):
            self.start(index)
        while self.children or self.pending:
            now = time.monotonic()
            for due in [entry for entry in self.pending if entry[0] <= now]:
                self.pending.remove(due)
                self.start(due[1])
            timeout = self.timeout()
            if timeout is None:
                info = signal.sigwaitinfo(_WATCHED)
                signum: int | None = info.si_signo
            else:
                waited = signal.sigtimedwait(_WATCHED, timeout)
                signum = waited.si_signo if waited is not None else None
            if signum is None:
                if self.kill_at is not None and time.monotonic() >= self.kill_at:
                    log.warning("workers killed", extra={"fields": {"left": len(self.children)}})
                    self.signal_all(signal.SIGKILL)
                    self.kill_at = None
            elif signum in _STOP_SIGNALS:
                if self.stopping:  # asked twice: do not wait for the grace period
                    self.signal_all(signal.SIGKILL)
                else:
                    log.info(
                        "stopping workers",
                        extra={"fields": {"signal": signal.Signals(signum).name}},
                    )
                    self.stop()
            self.reap()  # SIGCHLD, or a signal that arrived together with one
        return 1 if self.failed else 0


def supervise(
    run_worker: Callable[[int], int],
    workers: int,
    *,
    stop_grace_s: float,
    policy: RestartPolicy | None = None,
) -> int:
    """Run ``run_worker(index)`` in ``workers`` forked processes until a stop signal.

    Call from a process with no other threads (``fork``). ``run_worker`` runs in the child and
    returns its exit code; it should stop gracefully on SIGTERM. Returns 0 once every worker
    has stopped after SIGTERM/SIGINT, 1 when workers kept dying (see module doc).
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    supervisor = _Supervisor(
        run_worker, workers, stop_grace_s, policy or RestartPolicy(), set(previous)
    )
    try:
        return supervisor.run()
    finally:
        # Only on an error in the parent itself: never leave workers behind.
        supervisor.signal_all(signal.SIGKILL)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
