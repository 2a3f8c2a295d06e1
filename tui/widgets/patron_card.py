"""The patron summary at the desk: name, status, blocks with reasons, counts, fees due."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from core.services.views import PatronView
from tui.format import BLOCK_WORDS, day, money


class PatronCard(Static):
    """Shows the patron the desk is serving; the parent sets ``patron`` (attributes down)."""

    DEFAULT_CLASSES = "card"

    def __init__(self, currency: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.currency = currency
        self.patron: PatronView | None = None
        self.show(None)

    def show(self, patron: PatronView | None) -> None:
        self.patron = patron
        if patron is None:
            self.update("No patron. Scan a patron card, or F6 to find a patron by name.")
            self.set_class(False, "-blocked")
            return
        text = Text()
        text.append(f"{patron.given_name} {patron.family_name}", style="bold")
        text.append(f"   card {patron.barcode}   {patron.category}, {patron.home_branch}\n")
        if patron.blocks:
            reasons = []
            for block in sorted(patron.blocks):
                words = BLOCK_WORDS[block]
                if block == "staff" and patron.staff_block:
                    words = f"{words}: {patron.staff_block}"
                reasons.append(words)
            text.append("BLOCKED: " + "; ".join(reasons), style="bold reverse")
        else:
            text.append("Status: OK", style="bold")
        text.append(f"   card valid to {day(patron.expires_on)}\n")
        text.append(
            f"Loans {patron.loans} (overdue {patron.overdue})   "
            f"Holds {patron.holds} (ready {patron.holds_available})   "
            f"Fees due {money(patron.fees_outstanding, self.currency)}"
        )
        if not patron.has_pin:
            text.append("   no PIN set")
        self.update(text)
        self.set_class(bool(patron.blocks), "-blocked")
