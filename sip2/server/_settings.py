"""What the SIP2 server is told: its listening sockets and its limits."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sip2.codec import TerminalSettings


@dataclass(frozen=True)
class Listener:
    """One listening socket: plain TCP or TLS, and how terminals on it frame SIP2.

    ``host`` "" listens on every address. A plain TCP listener off the loopback is refused
    unless ``allow_plaintext`` (PRIV-08: SIP2 carries PINs).
    """

    host: str
    port: int
    ssl_context: ssl.SSLContext | None = None
    allow_plaintext: bool = False
    codec: TerminalSettings = field(default_factory=TerminalSettings)

    @property
    def label(self) -> str:
        """``host:port`` as configured, for logs."""
        return f"{self.host or '*'}:{self.port}"


def _no_overrides() -> Mapping[str, TerminalSettings]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ServerLimits:
    """Timeouts and bounds of the SIP2 server.

    - ``idle_timeout_s``: a connection that sends nothing for this long is closed. Kiosks send
      a 99 heartbeat every few minutes, so keep it well above that (docs/sip2.md). It also bounds
      the TLS handshake and how long we wait for a peer to take an answer.
    - ``login_timeout_s``: a connection not logged in this long after it was accepted is
      closed, whatever it sends (a 99 before login is allowed, but does not extend this).
    - ``message_timeout_s``: once the first bytes of a message have arrived, the rest must
      arrive within this, so one byte a second cannot hold a connection.
    - ``max_sessions``: connections over this many are closed as soon as they are accepted.
    - ``max_prelogin`` / ``max_prelogin_per_address``: connections not yet logged in, in all
      and from one source address. A new connection over either closes the oldest such
      connection (of that address, for the second), so connections that never log in cannot
      keep a new kiosk from logging in, and never take the slots of logged-in kiosks.
    - ``max_failed_logins``: failed 93s on one connection before it is closed (the handlers
      also limit them per account and per address, ``LoginLimits``).
    - ``patron_idle_s``: after this long without a request, the verified PIN and the answer
      kept for a 97 are forgotten (PRIV-16: the next patron at the kiosk cannot have them).
    - ``terminal_check_s``: how often open sessions are checked against their terminal account;
      a disabled or removed terminal's sessions are closed at the next check.
    - ``shutdown_grace_s``: after a stop, how long requests already running get to finish.
    - ``terminal_codecs``: per-terminal wire settings by login, used from the login on.
    """

    idle_timeout_s: float = 600.0
    login_timeout_s: float = 30.0
    message_timeout_s: float = 10.0
    max_sessions: int = 2500
    max_prelogin: int = 64
    max_prelogin_per_address: int = 16
    max_failed_logins: int = 3
    patron_idle_s: float = 180.0
    terminal_check_s: float = 2.0
    shutdown_grace_s: float = 5.0
    terminal_codecs: Mapping[str, TerminalSettings] = field(default_factory=_no_overrides)

    def __post_init__(self) -> None:
        for name in (
            "idle_timeout_s",
            "login_timeout_s",
            "message_timeout_s",
            "patron_idle_s",
            "terminal_check_s",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        for name in ("max_sessions", "max_prelogin", "max_prelogin_per_address"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_failed_logins < 1:
            raise ValueError("max_failed_logins must be at least 1")
        if not self.shutdown_grace_s >= 0:
            raise ValueError("shutdown_grace_s must not be negative")
