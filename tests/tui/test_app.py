"""App-wide: help lists the bindings of the screen in front, themes, NO_COLOR, the palette."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from core.services.work import Store
from tests.tui.conftest import CLERK, acknowledge_all, fixed_clock, make_app, settle, type_line
from tui.app import StaffApp
from tui.context import Facilities, StaffSession
from tui.screens.desk import DeskScreen
from tui.screens.go_to import GoToModal
from tui.screens.help import HelpScreen
from tui.screens.patron import PatronScreen
from tui.theme import CONTRAST_THEME, DEFAULT_THEME


def _help_rows(app: StaffApp) -> dict[str, str]:
    table = app.screen.query_one("#help-keys", DataTable)
    rows = (table.get_row_at(i) for i in range(table.row_count))
    return {str(key): str(does) for key, does in rows}


@pytest.mark.asyncio
async def test_f1_lists_every_binding_of_the_desk(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        desk_keys = {b.description for b in DeskScreen.BINDINGS if hasattr(b, "description")}
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        described = set(_help_rows(app).values())
        assert desk_keys <= described
        assert {"Help", "Go to", "Quit"} <= described
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


@pytest.mark.asyncio
async def test_question_mark_opens_help_for_the_patron_record(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_line(pilot, "P0001")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        described = set(_help_rows(app).values())
        assert {"Patron sets PIN", "Reset PIN", "Consents", "Note", "Block"} <= described
        assert "Pay fee" not in described  # a desk binding: not on this screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PatronScreen)


@pytest.mark.asyncio
async def test_no_color_starts_in_the_contrast_theme(desk_store: Store) -> None:
    plain = make_app(desk_store)
    mono = StaffApp(
        desk_store,
        Facilities(),
        fixed_clock,
        session=StaffSession(CLERK, "s"),
        environ={"NO_COLOR": "1"},
    )
    async with plain.run_test(size=(80, 24)) as pilot:
        assert plain.theme == DEFAULT_THEME
        await pilot.press("ctrl+t")
        assert plain.theme == CONTRAST_THEME
    async with mono.run_test(size=(80, 24)):
        assert mono.theme == CONTRAST_THEME


@pytest.mark.asyncio
async def test_go_to_lists_the_desk_and_the_palette_has_the_screens(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to: Circulation desk" in titles
        assert "High contrast" in titles
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, GoToModal)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
