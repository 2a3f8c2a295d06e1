"""Listening sockets that several SIP2 worker processes share through ``SO_REUSEPORT``.

With ``[sip2] workers`` above 1, every worker process opens its own listening socket on the
same address and port with ``SO_REUSEPORT`` set; the kernel spreads new connections over them
(by a hash of the peer's address and port), so no process accepts for another and a worker
that dies takes only its own connections with it. ``trio.open_tcp_listeners`` does not set the
option, so the sockets are made here the way it makes them, plus that one option.
"""

from __future__ import annotations

import errno
import socket as stdlib_socket
from typing import Final

import trio

# As trio.open_tcp_listeners: ask for the largest queue; the kernel caps it at somaxconn.
BACKLOG: Final = 0xFFFF


def reuse_port_supported() -> bool:
    """Whether this platform has ``SO_REUSEPORT`` (Linux and the BSDs do)."""
    return hasattr(stdlib_socket, "SO_REUSEPORT")


async def open_reuse_port_listeners(host: str, port: int) -> list[trio.SocketListener]:
    """Listen on ``host:port`` (``host`` "" for every address) with ``SO_REUSEPORT`` set.

    One socket per address family the host resolves to, as ``trio.open_tcp_listeners``. The
    port must be a real one: with port 0 each worker would get a different port (see
    ``reserve_port``). Raises OSError when the address cannot be bound.
    """
    if not reuse_port_supported():
        raise OSError(errno.ENOPROTOOPT, "SO_REUSEPORT is not available on this platform")
    infos = await trio.socket.getaddrinfo(
        host or None,
        port,
        type=stdlib_socket.SOCK_STREAM,
        flags=stdlib_socket.AI_PASSIVE,
    )
    listeners: list[trio.SocketListener] = []
    try:
        for family, kind, proto, _, address in infos:
            sock = trio.socket.socket(family, kind, proto)
            try:
                sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEADDR, 1)
                sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEPORT, 1)
                if family == stdlib_socket.AF_INET6:
                    # One socket per family, as trio does: the IPv6 one must not take IPv4 too.
                    sock.setsockopt(stdlib_socket.IPPROTO_IPV6, stdlib_socket.IPV6_V6ONLY, 1)
                await sock.bind(address)
                sock.listen(BACKLOG)
            except BaseException:
                sock.close()
                raise
            listeners.append(trio.SocketListener(sock))
    except BaseException:
        for listener in listeners:
            listener.socket.close()
        raise
    return listeners


def reserve_port(host: str, port: int) -> tuple[stdlib_socket.socket, int]:
    """Bind (without listening) a ``SO_REUSEPORT`` socket on ``host:port``; it and its port.

    The parent process holds it while its workers run, so that port 0 ("any free port")
    resolves to one port every worker then binds, and a restarted worker finds it still free
    for the group. A socket that does not listen is never handed a connection.
    """
    if not reuse_port_supported():
        raise OSError(errno.ENOPROTOOPT, "SO_REUSEPORT is not available on this platform")
    family, kind, proto, _, address = stdlib_socket.getaddrinfo(
        host or None, port, type=stdlib_socket.SOCK_STREAM, flags=stdlib_socket.AI_PASSIVE
    )[0]
    sock = stdlib_socket.socket(family, kind, proto)
    try:
        sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEADDR, 1)
        sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEPORT, 1)
        if family == stdlib_socket.AF_INET6:
            sock.setsockopt(stdlib_socket.IPPROTO_IPV6, stdlib_socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock, int(sock.getsockname()[1])
