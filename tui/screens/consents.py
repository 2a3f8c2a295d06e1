"""A patron's consents: grant, or withdraw after being told what is destroyed (PRIV-02)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from core.policy.consent_kinds import DATA_SHARING_PREFIX
from core.privacy.consents import FIXED_KINDS

ConsentToggle = tuple[str, bool]  # (kind, grant?)

_MEANING = {
    "checkout_history": "keep a reading history of returned items",
    "notification_history": "keep copies of the notices sent",
    "hold_shelf_name": "print the name on hold-shelf slips",
}


def _meaning(kind: str) -> str:
    return _MEANING.get(kind, "share data with " + kind.removeprefix(DATA_SHARING_PREFIX))


class ConsentModal(ModalScreen[ConsentToggle | None]):
    """Returns the kind chosen and whether to grant (True) or withdraw (False) it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, granted: tuple[str, ...]) -> None:
        super().__init__()
        self.granted = granted

    def compose(self) -> ComposeResult:
        kinds = list(FIXED_KINDS) + [k for k in self.granted if k not in FIXED_KINDS]
        with Vertical(classes="dialog wide"):
            yield Label("Enter on a consent grants it, or withdraws it if it is given (all opt-in)")
            yield OptionList(
                *(
                    Option(
                        f"[{'x' if kind in self.granted else ' '}] {kind}: {_meaning(kind)}",
                        id=kind,
                    )
                    for kind in kinds
                ),
                id="kinds",
            )
            yield Label(f"Or a new sharing consent: {DATA_SHARING_PREFIX}<recipient>, then Enter")
            yield Input(id="other", placeholder=f"{DATA_SHARING_PREFIX}...")

    def on_mount(self) -> None:
        self.query_one("#kinds", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        kind = event.option.id or ""
        self.dismiss((kind, kind not in self.granted))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss((event.value.strip(), True))

    def action_cancel(self) -> None:
        self.dismiss(None)
