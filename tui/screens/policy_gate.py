"""The policy acknowledgement a member of staff gives before any patron data appears (PRIV-15)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from core.privacy.training import acknowledge_training
from core.services.staff_session import PolicyGate, policy_gate
from tui.context import Desk
from tui.work import call_service


class PolicyGateScreen(Screen[None]):
    """Shows the policy in force until it is acknowledged; posts ``Passed`` once it is."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+y", "acknowledge", "I acknowledge")]

    class Passed(Message):
        """Nothing is owed: the desk may open."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.version: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("Checking the privacy policy in force...", id="gate-title")
        with VerticalScroll(id="gate-text"):
            yield Static("", id="policy-text")
        yield Button("I have read the policy and acknowledge it", id="acknowledge", disabled=True)
        yield Static("", id="gate-message")
        yield Footer()

    def on_mount(self) -> None:
        desk = self.desk

        def load() -> PolicyGate:
            with desk.store.read() as uow:
                return policy_gate(uow, desk.session.actor, desk.clock())

        call_service(self, load, self._loaded, self._refused)

    def _loaded(self, gate: PolicyGate) -> None:
        if gate.acknowledged:
            self.post_message(self.Passed())
            return
        self.version = gate.version
        self.query_one("#gate-title", Static).update(
            f"Privacy policy {gate.version}: read it and acknowledge it before patron data is shown"
        )
        self.query_one("#policy-text", Static).update(gate.text or "")
        button = self.query_one("#acknowledge", Button)
        button.disabled = False
        button.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "acknowledge":
            self.action_acknowledge()

    def action_acknowledge(self) -> None:
        if self.version is None:
            return
        desk = self.desk
        actor = desk.session.actor

        def acknowledge() -> str:
            with desk.store.write() as uow:
                return acknowledge_training(uow, actor, desk.clock(), actor.name)

        call_service(self, acknowledge, self._acknowledged, self._refused, exclusive=True)

    def _acknowledged(self, _version: str) -> None:
        self.post_message(self.Passed())

    def _refused(self, text: str) -> None:
        self.query_one("#gate-message", Static).update(f"Refused: {text}")
