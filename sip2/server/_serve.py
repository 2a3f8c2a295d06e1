"""``serve_sip2``: TCP and TLS listeners, one task per connection, graceful shutdown.

Shutdown: ``serve_sip2`` runs until it is cancelled or, when given ``stop``, until that event
is set. Then it closes its listening sockets (no new connections), closes the connections
that are idle, lets the requests already running finish and write their answers (those
connections close right after), and after ``ServerLimits.shutdown_grace_s`` cancels whatever
is left. A database call is never abandoned half-way (see ``DatabaseExecutor.run``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence

import trio

from core.security.network import is_loopback
from sip2.handlers import Lanes, Sip2Handlers
from sip2.server._connection import ServerState, fields, serve_connection
from sip2.server._lanes import DatabaseExecutor, HashWorkers
from sip2.server._observer import NoObserver, ServerObserver
from sip2.server._settings import Listener, ServerLimits
from sip2.server._sockets import open_reuse_port_listeners

log = logging.getLogger("reticent.sip2")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_listeners(listeners: Sequence[Listener]) -> None:
    """Refuse listeners that would expose PINs: plain TCP off the loopback without a yes.

    Raises ValueError naming the listener (PRIV-08).
    """
    if not listeners:
        raise ValueError("no SIP2 listener given")
    for listener in listeners:
        plaintext = listener.ssl_context is None and not is_loopback(listener.host)
        if plaintext and not listener.allow_plaintext:
            raise ValueError(
                f"SIP2 listener {listener.label} is plain TCP on a non-loopback address; "
                "SIP2 carries PINs and passwords (PRIV-08): give it a TLS certificate, or "
                "set allow_plaintext if the network is trusted"
            )


def _warn_plaintext(listeners: Sequence[Listener]) -> None:
    for listener in listeners:
        if listener.ssl_context is None and not is_loopback(listener.host):
            log.warning(
                "plaintext listener",
                extra=fields(
                    listener=listener.label,
                    note="PINs and passwords cross the network unencrypted (PRIV-08)",
                ),
            )


async def _open(
    listeners: Sequence[Listener], reuse_port: bool
) -> list[tuple[Listener, list[trio.SocketListener]]]:
    opened: list[tuple[Listener, list[trio.SocketListener]]] = []
    try:
        for listener in listeners:
            if reuse_port:
                sockets = await open_reuse_port_listeners(listener.host, listener.port)
            else:
                sockets = await trio.open_tcp_listeners(listener.port, host=listener.host or None)
            opened.append((listener, sockets))
    except BaseException:
        for _, sockets in opened:
            for socket_listener in sockets:
                await trio.aclose_forcefully(socket_listener)
        raise
    return opened


def _bound(sockets: Sequence[trio.SocketListener]) -> list[tuple[str, int]]:
    addresses: list[tuple[str, int]] = []
    for socket_listener in sockets:
        name = socket_listener.socket.getsockname()
        addresses.append((str(name[0]), int(name[1])))
    return addresses


async def _close_disabled_terminals(state: ServerState) -> None:
    """Every ``terminal_check_s``: close the sessions of terminals disabled or removed since
    they logged in (their new logins are refused by the login step itself)."""
    while True:
        await trio.sleep(state.limits.terminal_check_s)
        logins = frozenset(c.session.login for c in state.open if c.session.login is not None)
        if not logins:
            continue
        enabled = await state.lanes.database.transact(
            state.handlers.enabled_terminals, logins, reads_only=True
        )
        for conversation in list(state.open):
            login = conversation.session.login
            if login is not None and login not in enabled:
                log.warning(
                    "terminal disabled", extra=fields(conn=conversation.number, terminal=login)
                )
                conversation.close_soon("terminal disabled")


async def _cancel_on(stop: trio.Event, scope: trio.CancelScope) -> None:
    await stop.wait()
    scope.cancel()


async def serve_sip2(
    handlers: Sip2Handlers,
    listeners: Sequence[Listener],
    limits: ServerLimits | None = None,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    stop: trio.Event | None = None,
    database: DatabaseExecutor | None = None,
    hashing: HashWorkers | None = None,
    reuse_port: bool = False,
    observer: ServerObserver | None = None,
    task_status: trio.TaskStatus[list[tuple[str, int]]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve SIP2 on ``listeners`` until cancelled or until ``stop`` is set (see module doc).

    Reports the bound ``(host, port)`` addresses through ``task_status`` once listening (port
    0 picks a free port). ``clock`` gives the time each request is handled at. ``database``
    is the process's one database executor (a new one when not given); ``hashing`` runs argon2.
    ``reuse_port`` opens the listening sockets with ``SO_REUSEPORT``, for one of several worker
    processes serving the same ports (``sip2.server._sockets``). ``observer`` is told about
    connections, logins and answered requests (``sip2.server._observer``; metrics).
    Raises ValueError before opening anything for a plain TCP listener off the loopback
    without ``allow_plaintext``.
    """
    limits = limits if limits is not None else ServerLimits()
    check_listeners(listeners)
    database = database if database is not None else DatabaseExecutor()
    if database.store is None:  # group commit through the store the handlers write to
        database.bind(handlers.ctx.store)
    lanes = Lanes(database, hashing if hashing is not None else HashWorkers())
    state = ServerState(handlers, limits, clock, lanes, observer=observer or NoObserver())
    opened = await _open(listeners, reuse_port)
    _warn_plaintext(listeners)
    bound = [address for _, sockets in opened for address in _bound(sockets)]
    for listener, sockets in opened:
        log.info(
            "listening",
            extra=fields(
                listener=listener.label,
                bound=" ".join(f"{host}:{port}" for host, port in _bound(sockets)),
                tls=listener.ssl_context is not None,
            ),
        )
    async with trio.open_nursery() as connections:
        async with trio.open_nursery() as accepting:
            for listener, sockets in opened:
                wrapped: list[trio.abc.Listener[trio.abc.Stream]] = list(sockets)
                if listener.ssl_context is not None:
                    context = listener.ssl_context
                    wrapped = [
                        trio.SSLListener(sock, context, https_compatible=False) for sock in sockets
                    ]
                # trio.serve_listeners waits out accept() running short of descriptors or memory.
                await accepting.start(
                    functools.partial(
                        trio.serve_listeners,
                        functools.partial(serve_connection, state, listener),
                        wrapped,
                        handler_nursery=connections,
                    )
                )
            accepting.start_soon(_close_disabled_terminals, state)
            if stop is not None:
                accepting.start_soon(_cancel_on, stop, accepting.cancel_scope)
            task_status.started(bound)
        # Reached only when stop was set: serve_listeners has closed the listening sockets.
        log.info("stopping", extra=fields(connections=len(state.open)))
        state.drain()
        connections.cancel_scope.deadline = trio.current_time() + limits.shutdown_grace_s
    log.info("stopped")
