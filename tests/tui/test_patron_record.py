"""The patron record: audited view, edits, consents, note, block, PIN set by the patron."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input, Static

from core.model import AuditEvent, Patron, ReadingHistory
from core.services.work import Store
from tests.conftest import NOW
from tests.tui.conftest import (
    SESSION_ID,
    acknowledge_all,
    make_app,
    screen_text,
    settle,
    type_line,
)
from tui.screens.confirm import Confirm
from tui.screens.patron import PatronScreen
from tui.screens.pin_entry import PinEntryScreen
from tui.widgets.results import Results


async def _open_record(pilot: object, app: object, barcode: str = "P0001") -> None:
    await settle(pilot)  # type: ignore[arg-type]
    await type_line(pilot, barcode)  # type: ignore[arg-type]
    await pilot.press("f7")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, PatronScreen)  # type: ignore[attr-defined]


def _said(app: object) -> list[str]:
    return app.screen.query_one(Results).lines_written  # type: ignore[attr-defined, no-any-return]


def _record(app: object) -> str:
    return str(app.screen.query_one("#record", Static).render())  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_view_is_audited_once_per_session_with_staff_and_session(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_record(pilot, app)
        assert "Ada Lovelace" in _record(app)
        assert "NEEDS ACKNOWLEDGEMENT of 2026-1" in _record(app)
    with desk_store.read() as uow:
        views = uow.session.query(AuditEvent).filter_by(action="patron.view").all()
    assert len(views) == 1  # the desk lookup and the record are one view in one session
    assert views[0].actor == "staff:clerk"
    assert json.loads(views[0].detail) == {"session_id": SESSION_ID}
    assert "P0001" not in (views[0].subject or "")  # a keyed pseudonym, never the barcode


@pytest.mark.asyncio
async def test_edit_fields_and_policy_acknowledgement(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open_record(pilot, app)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab", "tab")  # to the e-mail field
        await pilot.press(*"ada@example.org", "ctrl+s")
        await settle(pilot)
        assert "OK Record saved" in _said(app)
        assert "ada@example.org" in _record(app)
        await pilot.press("a")
        await settle(pilot)
        assert "acknowledged 2026-1" in _record(app)
    with desk_store.read() as uow:
        edit = uow.session.query(AuditEvent).filter_by(action="patron.edit").one()
    assert json.loads(edit.detail) == {"fields": "email"}  # the field's name, never the value


@pytest.mark.asyncio
async def test_bad_email_is_refused_and_nothing_changes(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open_record(pilot, app)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab", "tab", *"not-an-address", "ctrl+s")
        await settle(pilot)
        assert any(x.startswith("REFUSED email: not a valid email") for x in _said(app))
    with desk_store.read() as uow:
        assert uow.session.query(Patron).filter_by(barcode="P0001").one().email is None


@pytest.mark.asyncio
async def test_consent_grant_then_withdraw_says_what_is_destroyed(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open_record(pilot, app)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # checkout_history is first
        await settle(pilot)
        assert "OK Consent checkout_history granted" in _said(app)
        with desk_store.write() as uow:
            pid = uow.session.query(Patron.id).filter_by(barcode="P0001").scalar()
            for title in ("One", "Two"):
                uow.session.add(
                    ReadingHistory(patron_id=pid, title=title, author="A", returned_on=NOW.date())
                )
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        question = str(app.screen.query_one("#question", Static).render())
        assert "destroys 2 reading history entries" in question
        await pilot.press("y")
        await settle(pilot)
        assert "OK Consent checkout_history withdrawn; 2 rows destroyed" in _said(app)
    with desk_store.read() as uow:
        assert uow.session.query(ReadingHistory).count() == 0


@pytest.mark.asyncio
async def test_withdrawal_not_confirmed_destroys_nothing(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open_record(pilot, app)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        with desk_store.write() as uow:
            pid = uow.session.query(Patron.id).filter_by(barcode="P0001").scalar()
            uow.session.add(
                ReadingHistory(patron_id=pid, title="Kept", author="A", returned_on=NOW.date())
            )
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # the focus is on "Keep as is"
        await settle(pilot)
        assert isinstance(app.screen, PatronScreen)
    with desk_store.read() as uow:
        assert uow.session.query(ReadingHistory).count() == 1


@pytest.mark.asyncio
async def test_note_needs_an_expiry_and_block_unblock(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open_record(pilot, app)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Prefers large print", "enter")
        await pilot.press("ctrl+a", "ctrl+k", *"2026-03-20", "enter")
        await settle(pilot)
        assert "OK Note saved" in _said(app)
        assert "Prefers large print (expires 2026-03-20)" in _record(app)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter", "ctrl+a", "ctrl+k", *"2030-01-01", "enter")
        await settle(pilot)
        assert any("at most 365 days ahead" in x for x in _said(app))
        await pilot.press("b")
        await settle(pilot)
        await type_line(pilot, "damaged three books")
        assert "blocked by staff" in _record(app)
        assert "damaged three books" in _record(app)
        await pilot.press("u")
        await settle(pilot)
        assert "Blocks          none" in _record(app)


@pytest.mark.asyncio
async def test_patron_types_the_pin_twice_and_staff_never_see_it(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    pin = "4821"
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_record(pilot, app)
        assert "PIN             not set" in _record(app)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PinEntryScreen)
        await type_line(pilot, pin)
        assert pin not in screen_text(app)
        assert app.screen.query_one("#pin", Input).password
        await type_line(pilot, "4822")  # not the same: start again
        assert "not the same" in screen_text(app)
        await type_line(pilot, pin)
        await type_line(pilot, pin)
        assert isinstance(app.screen, PatronScreen)
        assert "OK The patron's new PIN is set" in _said(app)
        assert "PIN             set" in _record(app)
        assert pin not in screen_text(app)
    with desk_store.read() as uow:
        stored = uow.session.query(Patron).filter_by(barcode="P0001").one().pin_hash
        events = [e.detail or "" for e in uow.session.query(AuditEvent).all()]
    assert stored is not None and desk_store.env.hasher.verify(stored, pin).ok
    assert not any(pin in detail for detail in events)  # PRIV-09: never audited


@pytest.mark.asyncio
async def test_staff_can_only_force_a_reset(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    with desk_store.write() as uow:
        patron = uow.session.query(Patron).filter_by(barcode="P0001").one()
        patron.pin_hash = desk_store.env.hasher.hash("9999")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_record(pilot, app)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "OK PIN removed: the patron must choose a new one" in _said(app)
    with desk_store.read() as uow:
        assert uow.session.query(Patron).filter_by(barcode="P0001").one().pin_hash is None


@pytest.mark.asyncio
async def test_an_obvious_pin_is_refused_without_repeating_it(desk_store: Store) -> None:
    acknowledge_all(desk_store)
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_record(pilot, app)
        await pilot.press("p")
        await settle(pilot)
        await type_line(pilot, "3456")
        await type_line(pilot, "3456")
        assert isinstance(app.screen, PatronScreen)
        refusals = [x for x in _said(app) if x.startswith("REFUSED")]
        assert refusals and "too easy to guess" in refusals[0]
        assert "3456" not in refusals[0]
    with desk_store.read() as uow:
        assert uow.session.query(Patron).filter_by(barcode="P0001").one().pin_hash is None
