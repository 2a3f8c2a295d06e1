"""The desk's running list of results: each line says what happened, or why not."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog


class Results(RichLog):
    """Results in the order they happened; refusals are marked in words, not only colour."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, max_lines=200)
        self.lines_written: list[str] = []  # the plain text, for the record and for tests

    def ok(self, text: str) -> None:
        self._add("OK", text, "bold")

    def refused(self, text: str) -> None:
        self._add("REFUSED", text, "bold reverse")

    def note(self, text: str) -> None:
        self._add("NOTE", text, "italic")

    def _add(self, tag: str, text: str, style: str) -> None:
        line = Text()
        line.append(f"{tag:<8}", style=style)
        line.append(text)
        self.lines_written.append(f"{tag} {text}")
        self.write(line)
