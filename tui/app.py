"""The staff app: sign-in, the policy gate, then the desk and the other screens (Textual)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from core.services.work import Store
from tui.context import Desk, Facilities, StaffSession
from tui.navigation import by_name, listed_for
from tui.screens.go_to import GoToModal
from tui.screens.help import HelpScreen
from tui.screens.login import LoginScreen
from tui.screens.policy_gate import PolicyGateScreen
from tui.theme import CONTRAST_THEME, DEFAULT_THEME, THEMES, initial_theme


class StaffApp(App[None]):
    """Keyboard-first; usable at 80x24. Screens get the ``Desk`` as an attribute."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "reticent"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f10", "go_to", "Go to"),
        Binding("ctrl+t", "toggle_contrast", "Contrast", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        store: Store,
        facilities: Facilities,
        clock: Callable[[], dt.datetime],
        *,
        session: StaffSession | None = None,
        session_id: str = "local",
        theme_name: str | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        super().__init__()
        self.store = store
        self.facilities = facilities
        self.clock = clock
        self.session = session
        self.session_id = session_id
        self.desk: Desk | None = None
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = initial_theme(environ, theme_name)

    def on_mount(self) -> None:
        self.title = self.facilities.library_name
        if self.session is not None:
            self.begin(self.session)
        else:
            self.push_screen(LoginScreen(self.store, self.clock, self.facilities.library_name))

    def on_login_screen_signed_in(self, message: LoginScreen.SignedIn) -> None:
        self.pop_screen()
        self.begin(StaffSession(message.actor, self.session_id))

    def begin(self, session: StaffSession) -> None:
        """Sign-in is done: the policy gate comes before any patron data (PRIV-15)."""
        # The desk acts at this appliance's branch (checkouts, returns, routing).
        actor = dataclasses.replace(session.actor, branch=self.facilities.branch)
        session = dataclasses.replace(session, actor=actor)
        self.session = session
        self.desk = Desk(self.store, self.clock, self.facilities, session)
        self.push_screen(PolicyGateScreen(self.desk))

    def on_policy_gate_screen_passed(self, _message: PolicyGateScreen.Passed) -> None:
        assert self.desk is not None
        self.switch_screen(by_name("desk").build(self.desk))

    def open_screen(self, name: str | None) -> None:
        """Open a destination on top of the desk (the desk itself: back to it)."""
        if name is None or self.desk is None:
            return
        while len(self.screen_stack) > 2:  # the default screen, then the desk
            self.pop_screen()
        if name != "desk":
            self.push_screen(by_name(name).build(self.desk))

    def action_go_to(self) -> None:
        if self.desk is None:
            return
        listed = [(d.name, d.title) for d in listed_for(self.desk.session.actor)]
        self.push_screen(GoToModal(listed), self.open_screen)

    def help_rows(self, screen: Screen[object]) -> list[tuple[str, str]]:
        """Every binding active on `screen`, with its key as the terminal shows it."""
        rows: dict[str, str] = {}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if binding.description and key not in rows:
                rows[key] = binding.description
        return [(self.get_key_display(Binding(key, "")), text) for key, text in rows.items()]

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        title = type(self.screen).__name__.removesuffix("Screen").removesuffix("Modal")
        self.push_screen(HelpScreen(title, self.help_rows(self.screen)))

    def action_toggle_contrast(self) -> None:
        self.theme = DEFAULT_THEME if self.theme == CONTRAST_THEME else CONTRAST_THEME

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys of this screen", self.action_help)
        yield SystemCommand(
            "High contrast", "Switch the monochrome theme on or off", self.action_toggle_contrast
        )
        if self.desk is not None:
            for destination in listed_for(self.desk.session.actor):
                yield SystemCommand(
                    f"Go to: {destination.title}",
                    f"Open the {destination.title.lower()} screen",
                    lambda name=destination.name: self.open_screen(name),
                )
