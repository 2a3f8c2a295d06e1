"""Help (F1 or ?): every key binding of the screen in front, with what it does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    """Lists (keys, action) pairs the app collected from the screen it was opened on."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "close", "Close help")]

    def __init__(self, title: str, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="help-box"):
            yield Static(f"Keys on {self.title_text} (Escape closes)", id="help-title")
            table: DataTable[str] = DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Does")
            for key, description in self.keys:
                table.add_row(key, description)
            yield table

    def on_mount(self) -> None:
        self.query_one("#help-keys", DataTable).focus()

    def action_close(self) -> None:
        self.dismiss(None)
