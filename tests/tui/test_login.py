"""Signing in by hand and the policy gate before any patron data (PRIV-09, PRIV-15)."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from core.services.work import Store
from tests.tui.conftest import PASSWORD, POLICY_TEXT, make_app, settle, type_line
from tui.screens.desk import DeskScreen
from tui.screens.login import LoginScreen
from tui.screens.policy_gate import PolicyGateScreen


@pytest.mark.asyncio
async def test_sign_in_then_acknowledge_then_desk(desk_store: Store) -> None:
    app = make_app(desk_store, actor=None)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await type_line(pilot, "clerk")
        await type_line(pilot, PASSWORD)
        assert isinstance(app.screen, PolicyGateScreen)
        assert POLICY_TEXT in str(app.screen.query_one("#policy-text", Static).render())
        await pilot.press("enter")  # the acknowledge button has the focus
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.focused is app.screen.query_one("#scan", Input)


@pytest.mark.asyncio
async def test_wrong_password_is_refused_and_never_shown(desk_store: Store) -> None:
    app = make_app(desk_store, actor=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_line(pilot, "clerk")
        await type_line(pilot, "not-the-password")
        assert isinstance(app.screen, LoginScreen)
        message = str(app.screen.query_one("#login-message", Static).render())
        assert "not accepted" in message
        assert app.screen.query_one("#password", Input).value == ""
        for widget in app.screen.query(Static):
            assert "not-the-password" not in str(widget.render())


@pytest.mark.asyncio
async def test_three_failures_end_the_program(desk_store: Store) -> None:
    app = make_app(desk_store, actor=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_line(pilot, "clerk")
        for _ in range(3):
            await type_line(pilot, "wrong")
        assert app.return_code is not None or not app.is_running
