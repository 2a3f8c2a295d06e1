"""Taking a fee payment at the desk: the amount, defaulting to everything due."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.format import money, parse_money


class PaymentModal(ModalScreen[int | None]):
    """Returns the amount in minor units, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, due: int, currency: str) -> None:
        super().__init__()
        self.due = due
        self.currency = currency

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Fees due: {money(self.due, self.currency)}")
            yield Label("Amount paid in cash (Enter to take it, Escape to cancel)")
            yield Input(money(self.due, self.currency).split()[0], id="amount")
            yield Static("", id="payment-message")

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            amount = parse_money(event.value)
        except ValueError as error:
            self.query_one("#payment-message", Static).update(str(error))
            return
        self.dismiss(amount)

    def action_cancel(self) -> None:
        self.dismiss(None)
