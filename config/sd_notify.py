"""systemd's notification protocol (readiness, watchdog, status) over $NOTIFY_SOCKET."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger("reticent.systemd")

# systemd restarts a service whose pings stop for WatchdogSec; pinging at half that period
# leaves room for one late ping (the interval sd_watchdog_enabled(3) recommends).
PINGS_PER_PERIOD = 2


@dataclass(frozen=True)
class Notifier:
    """Sends datagrams to the socket systemd names in $NOTIFY_SOCKET (see sd_notify(3)).

    A plain `AF_UNIX` datagram per message, so there is nothing to keep open and no
    dependency on libsystemd. ``watchdog_s`` is how often to ping, None without a watchdog.
    """

    address: str
    watchdog_s: float | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], main_pid: int) -> Notifier | None:
        """The notifier systemd asked for, or None when not started by systemd (Type=notify).

        ``main_pid`` is the service's main process: a watchdog meant for another process
        (``WATCHDOG_PID``) is not this one's to feed.
        """
        address = environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]  # Linux abstract socket namespace
        elif not address.startswith("/"):
            return None  # unset, or a transport this implementation does not speak (vsock)
        return cls(address, _watchdog_interval(environ, main_pid))

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines; False (and one log line) if systemd cannot be reached."""
        message = "\n".join(assignments).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message, self.address)
        except OSError as error:
            log.warning("systemd notification failed", extra={"fields": {"error": error.strerror}})
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}")

    def ping(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=stopping")


def _watchdog_interval(environ: Mapping[str, str], main_pid: int) -> float | None:
    usec = environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    owner = environ.get("WATCHDOG_PID", "")
    if owner and owner != str(main_pid):
        return None
    return int(usec) / 1_000_000 / PINGS_PER_PERIOD
