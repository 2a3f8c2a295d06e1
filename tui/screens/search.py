"""Finding a patron without a card by name: at least 3 letters, at most 20 matches, audited."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from core.services.search import MAX_RESULTS, MIN_QUERY_CHARS, SearchResult, search_patrons
from tui.context import Desk
from tui.format import day
from tui.work import call_service


class SearchModal(ModalScreen[str | None]):
    """Returns the barcode of the patron chosen, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(
                f"Patron name (at least {MIN_QUERY_CHARS} letters; Enter searches, "
                "Down and Enter choose)"
            )
            yield Input(id="query", placeholder="e.g. love ada")
            yield OptionList(id="matches")
            yield Static("", id="search-message")

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        desk, query = self.desk, event.value
        actor, session_id = desk.session.actor, desk.session.session_id

        def job() -> SearchResult:
            with desk.store.write() as uow:  # the search is audited (PRIV-05)
                return search_patrons(uow, actor, desk.clock(), query, session_id=session_id)

        call_service(self, job, self._found, self._refused, exclusive=True)

    def _found(self, result: SearchResult) -> None:
        matches = self.query_one("#matches", OptionList)
        matches.clear_options()
        matches.add_options(
            Option(
                f"{m.family_name}, {m.given_name}  ({m.category}, card to {day(m.expires_on)})",
                id=m.barcode,
            )
            for m in result.matches
        )
        message = f"{len(result.matches)} found"
        if result.more:
            message += f"; only the first {MAX_RESULTS} are shown, type more of the name"
        self.query_one("#search-message", Static).update(message)
        if result.matches:
            matches.highlighted = 0
            matches.focus()

    def _refused(self, text: str) -> None:
        self.query_one("#search-message", Static).update(text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
