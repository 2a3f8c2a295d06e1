"""The list of screens a member of staff may open (F10); the services still check every call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class GoToModal(ModalScreen[str | None]):
    """Returns the name of the screen chosen, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f10", "cancel", "Cancel")]

    def __init__(self, destinations: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.destinations = destinations

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Go to (Enter opens, Escape stays)")
            yield OptionList(
                *(Option(title, id=name) for name, title in self.destinations), id="destinations"
            )

    def on_mount(self) -> None:
        self.query_one("#destinations", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
