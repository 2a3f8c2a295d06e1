"""Editing the few fields of a patron record staff may change: names and contact details."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from core.services.patron_record import PatronEdit
from core.services.views import PatronView

_FIELDS = (
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("email", "E-mail (for notices the patron asked for; empty removes it)"),
    ("phone", "Phone (for notices the patron asked for; empty removes it)"),
)


class EditPatronModal(ModalScreen[PatronEdit | None]):
    """Returns the fields as typed (Enter in the last field, or ctrl+s), or None (Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, patron: PatronView) -> None:
        super().__init__()
        self.patron = patron

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            for name, label in _FIELDS:
                yield Label(label)
                yield Input(getattr(self.patron, name) or "", id=name)

    def on_mount(self) -> None:
        self.query_one("#given_name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == _FIELDS[-1][0]:
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value for name, _ in _FIELDS}
        self.dismiss(PatronEdit(**values))

    def action_cancel(self) -> None:
        self.dismiss(None)
