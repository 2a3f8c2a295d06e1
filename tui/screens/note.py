"""The staff note on a patron: short, always with an expiry date (PRIV-06)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from core.services.patron_record import NOTE_MAX_CHARS, NOTE_MAX_DAYS

NoteChange = tuple[str, dt.date | None]


class NoteModal(ModalScreen[NoteChange | None]):
    """Returns the note and its expiry (an empty note clears it), or None (Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, note: str | None, expires_on: dt.date | None, today: dt.date) -> None:
        super().__init__()
        self.note = note or ""
        self.expires_on = expires_on or today + dt.timedelta(days=30)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(
                "A note is seen by every member of staff and is part of what the patron may ask "
                f"to see. Facts the desk needs only; at most {NOTE_MAX_CHARS} characters.",
                classes="warning",
            )
            yield Label("Note (empty removes it)")
            yield Input(self.note, id="note", max_length=NOTE_MAX_CHARS)
            yield Label(f"Expires on (YYYY-MM-DD, at most {NOTE_MAX_DAYS} days ahead)")
            yield Input(self.expires_on.isoformat(), id="expires")
            yield Static("", id="note-message")

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "note":
            self.query_one("#expires", Input).focus()
            return
        text = self.query_one("#note", Input).value
        try:
            expires = dt.date.fromisoformat(self.query_one("#expires", Input).value.strip())
        except ValueError:
            if text.strip():
                self.query_one("#note-message", Static).update("Type the date as YYYY-MM-DD")
                return
            expires = None
        self.dismiss((text, expires))

    def action_cancel(self) -> None:
        self.dismiss(None)
