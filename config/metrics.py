"""Prometheus metrics of a serving appliance: counts and latencies, never a patron or an item.

The daily jobs report to an observer (``ApplianceMetrics``); this module is the only one that
knows Prometheus. Label values come from small closed sets (data classes, results); nothing a
patron presents (barcode, PIN, name) or an item id is ever a label or a value (PRIV-03, PRIV-16).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    start_http_server,
)


class ApplianceMetrics:
    """The observer the daily jobs call, kept in its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # `*_created` series (one timestamp per label set) double the exposition for nothing
        # a monitoring check uses; this is the only Prometheus user in the process.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
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
