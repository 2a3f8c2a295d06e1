"""The SIP2 server (trio): listeners, connections, the database and hash lanes, worker processes.

Usage::

    stop = trio.Event()
    bound = await nursery.start(
        functools.partial(serve_sip2, handlers, [Listener("127.0.0.1", 6001)], stop=stop)
    )
    ...
    stop.set()  # the serve_sip2 task returns once connections have finished

The private modules: ``_serve`` (listening, shutdown), ``_connection`` (one connection: bytes
in and out, deadlines, logs), ``_lanes`` (the database lane with group commit, the hash
pool), ``_settings``, ``_sockets`` (``SO_REUSEPORT``) and ``_processes`` (worker processes).
"""

from sip2.server._lanes import DatabaseExecutor, HashWorkers
from sip2.server._observer import NoObserver, ServerObserver
from sip2.server._processes import RestartPolicy, supervise
from sip2.server._serve import check_listeners, serve_sip2, utc_now
from sip2.server._settings import Listener, ServerLimits
from sip2.server._sockets import reserve_port

__all__ = [
    "DatabaseExecutor",
    "HashWorkers",
    "Listener",
    "NoObserver",
    "RestartPolicy",
    "ServerLimits",
    "ServerObserver",
    "check_listeners",
    "reserve_port",
    "serve_sip2",
    "supervise",
    "utc_now",
]
