"""The patron's own PIN entry: a masked full-screen prompt, typed twice, never shown (PRIV-09)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static


class PinEntryScreen(Screen[str | None]):
    """Turn the screen to the patron: returns the PIN typed twice alike, or None (Escape).

    The PIN is masked as it is typed, is not echoed anywhere, and leaves this screen only as
    the return value that the caller hands to the service to hash.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.first: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-box"):
            yield Static("Please turn the screen to the patron.", id="pin-staff")
            yield Static("Type your new PIN, then Enter.", id="pin-prompt")
            yield Input(id="pin", password=True)
            yield Static("", id="pin-message")

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        typed = event.value
        event.input.value = ""
        if not typed:
            return
        if self.first is None:
            self.first = typed
            self.query_one("#pin-prompt", Static).update("Type the same PIN again, then Enter.")
            self.query_one("#pin-message", Static).update("")
            return
        if typed != self.first:
            self.first = None
            self.query_one("#pin-prompt", Static).update("Type your new PIN, then Enter.")
            self.query_one("#pin-message", Static).update(
                "The two PINs were not the same. Please start again."
            )
            return
        self.dismiss(typed)

    def action_cancel(self) -> None:
        self.first = None
        self.dismiss(None)
