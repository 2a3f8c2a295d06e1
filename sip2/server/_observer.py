"""What the SIP2 server reports to an observer (metrics): counts and durations only.

The server calls these on its event loop. Nothing passed identifies a patron or an item: a
connection is an opaque object, a terminal is the login of an account staff set up, and a
refused login is reported without the user id it tried (a mistyped password can land there).
"""

from __future__ import annotations

from typing import Protocol


class ServerObserver(Protocol):
    """Told about connections, terminal logins and answered requests (PRIV-16)."""

    def connection_opened(self, connection: object) -> None: ...

    def terminal_changed(self, connection: object, terminal: str | None) -> None: ...

    def connection_closed(self, connection: object) -> None: ...

    def connection_refused(self) -> None: ...

    def login_refused(self) -> None: ...

    def request_answered(self, command: str, outcome: str, seconds: float) -> None: ...


class NoObserver:
    """The observer when nobody watches: every report costs one method call."""

    def connection_opened(self, connection: object) -> None:
        pass

    def terminal_changed(self, connection: object, terminal: str | None) -> None:
        pass

    def connection_closed(self, connection: object) -> None:
        pass

    def connection_refused(self) -> None:
        pass

    def login_refused(self) -> None:
        pass

    def request_answered(self, command: str, outcome: str, seconds: float) -> None:
        pass
