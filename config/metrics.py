"""Prometheus metrics of a serving appliance: counts and latencies, never a patron or an item.

The SIP2 server and the daily jobs report to an observer (``ApplianceMetrics``); this module is
the only one that knows Prometheus. Label values come from small closed sets (SIP2 command
codes, outcomes, data classes) or from terminal account logins, which name devices set up by
staff; nothing a patron presents (barcode, PIN, name) or an item id is ever a label or a
value (PRIV-03, PRIV-16). A refused login is counted without its login name: a mistyped
password can land in the user id field.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)

# A SIP2 command code is two digits; anything else read off the wire is folded into one value
# so a garbled or hostile request cannot invent label values.
_COMMAND = re.compile(r"\d{2}")
UNKNOWN_COMMAND = "??"
NOT_LOGGED_IN = "-"
# From a group-committed read (under a millisecond) to a slow argon2 check on a small board.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def command_label(command: str) -> str:
    return command if _COMMAND.fullmatch(command) else UNKNOWN_COMMAND


class ApplianceMetrics:
    """The observer the SIP2 server and the daily jobs call, kept in its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # `*_created` series (one timestamp per label set) double the exposition for nothing
        # a monitoring check uses; this is the only Prometheus user in the process.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "reticent_sip2_requests",
            "SIP2 requests answered, by command code and outcome.",
            ("command", "outcome"),
            registry=r,
        )
        self.latency = Histogram(
            "reticent_sip2_request_seconds",
            "Time from a complete SIP2 request to its answer being written, by command code.",
            ("command",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sessions = Gauge(
            "reticent_sip2_sessions",
            "Open SIP2 connections by terminal account ('-' before a successful login).",
            ("terminal",),
            registry=r,
        )
        self.logins_refused = Counter(
            "reticent_sip2_logins_refused",
            "SIP2 logins refused (93 answered with ok=0).",
            registry=r,
        )
        self.connections_refused = Counter(
            "reticent_sip2_connections_refused",
            "Connections closed at once (session limit or shutdown).",
            registry=r,
        )
        self.purge_runs = Counter(
            "reticent_purge_runs", "Retention runs of the daily job (PRIV-07).", registry=r
        )
        self.purge_removed = Counter(
            "reticent_purge_rows_removed",
            "Rows (and old backups) removed by retention runs, by data class.",
            ("data_class",),
            registry=r,
        )
        self.purge_failures = Counter(
            "reticent_daily_job_failures", "Daily job runs that failed.", registry=r
        )
        self.last_purge = Gauge(
            "reticent_purge_last_run_timestamp_seconds",
            "When the last retention run of this process finished (Unix time).",
            registry=r,
        )
        self.notices = Counter(
            "reticent_notice_deliveries",
            "Notices handed over by the daily job, by result (emailed, printed, refused).",
            ("result",),
            registry=r,
        )
        self.queue_depth = Gauge(
            "reticent_database_queue_depth",
            "Database calls waiting for the database lane.",
            registry=r,
        )
        self._terminals: dict[object, str] = {}
        self._lock = threading.Lock()

    # The SIP2 server's reports (sip2.server.ServerObserver).

    def connection_opened(self, connection: object) -> None:
        with self._lock:
            self._terminals[connection] = NOT_LOGGED_IN
        self.sessions.labels(NOT_LOGGED_IN).inc()

    def terminal_changed(self, connection: object, terminal: str | None) -> None:
        label = terminal or NOT_LOGGED_IN
        with self._lock:
            previous = self._terminals.get(connection)
            self._terminals[connection] = label
        if previous is not None:
            self.sessions.labels(previous).dec()
        self.sessions.labels(label).inc()

    def connection_closed(self, connection: object) -> None:
        with self._lock:
            previous = self._terminals.pop(connection, None)
        if previous is not None:
            self.sessions.labels(previous).dec()

    def connection_refused(self) -> None:
        self.connections_refused.inc()

    def login_refused(self) -> None:
        self.logins_refused.inc()

    def request_answered(self, command: str, outcome: str, seconds: float) -> None:
        code = command_label(command)
        self.requests.labels(code, outcome).inc()
        self.latency.labels(code).observe(seconds)

    # The daily job's hooks.

    def purge_ran(self, removed: Mapping[str, int], finished_at: float) -> None:
        self.purge_runs.inc()
        for data_class, count in removed.items():
            self.purge_removed.labels(data_class).inc(count)
        self.last_purge.set(finished_at)

    def daily_job_failed(self) -> None:
        self.purge_failures.inc()

    def notices_delivered(self, emailed: int, printed: int, refused: int) -> None:
        self.notices.labels("emailed").inc(emailed)
        self.notices.labels("printed").inc(printed)
        self.notices.labels("refused").inc(refused)

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the database lane's queue length at every scrape."""
        self.queue_depth.set_function(depth)

    def serve(self, host: str, port: int) -> MetricsEndpoint:
        """Serve the exposition on ``host:port`` from a thread (port 0: any free port)."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)
        return MetricsEndpoint(server, thread)


class MetricsEndpoint:
    """A running endpoint: its bound address, and ``close`` to stop it."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
