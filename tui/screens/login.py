"""Sign-in for `reticent tui` started by hand: staff user and password (argon2 off the UI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from core.services.accounts import authenticate_staff
from core.services.actors import Actor
from core.services.work import Store
from tui.work import call_service

# Three wrong passwords end the program, as three failed SIP2 logins end a connection.
MAX_ATTEMPTS = 3


class LoginScreen(Screen[None]):
    """Asks for a staff user name and password; posts ``SignedIn`` when they are accepted."""

    class SignedIn(Message):
        """A member of staff signed in."""

        def __init__(self, actor: Actor) -> None:
            super().__init__()
            self.actor = actor

    def __init__(self, store: Store, clock: Callable[[], dt.datetime], library: str) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.library = library
        self.failures = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static(f"{self.library}: staff sign-in", id="login-title")
            yield Label("Staff user")
            yield Input(id="username", placeholder="user name")
            yield Label("Password")
            yield Input(id="password", password=True, placeholder="password")
            yield Static("", id="login-message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input)
        if event.input.id == "username" or not password.value:
            password.focus()
            return
        if not username:
            self.query_one("#username", Input).focus()
            return
        secret = password.value
        password.value = ""
        self.query_one("#login-message", Static).update("Checking...")
        call_service(
            self,
            lambda: authenticate_staff(self.store, self.clock(), username, secret),
            self._checked,
            self._refused,
            exclusive=True,
        )

    def _checked(self, actor: Actor | None) -> None:
        if actor is not None:
            self.post_message(self.SignedIn(actor))
            return
        self._refused("Staff user name or password not accepted.")

    def _refused(self, text: str) -> None:
        self.failures += 1
        if self.failures >= MAX_ATTEMPTS:
            self.app.exit(message="too many failed sign-ins")
            return
        self.query_one("#login-message", Static).update(text)
        self.query_one("#password", Input).focus()
