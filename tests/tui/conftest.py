"""Staff app fixtures: a real store with staff, patrons and items, a fixed clock, Pilot helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from core.model import Fee
from core.privacy.policy import publish_policy
from core.services.accounts import add_staff
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.services.work import Store
from tests.conftest import NOW, add_patron, add_record_with_items
from tui.app import StaffApp
from tui.context import Facilities, StaffSession

PASSWORD = "correct horse battery"
POLICY_TEXT = "We keep only what circulation needs, and only as long as the policy says."
CLERK = Actor(ActorKind.STAFF, "clerk", Role.CIRCULATION)
OFFICER = Actor(ActorKind.STAFF, "officer", Role.PRIVACY_OFFICER)
ADMIN = Actor(ActorKind.STAFF, "boss", Role.ADMIN)
SESSION_ID = "ssh-test-1"


def fixed_clock() -> dt.datetime:
    return NOW


@pytest.fixture
def desk_store(store: Store) -> Iterator[Store]:
    """Staff of each role, two patrons (one with a fee), items, a published policy."""
    admin = local_admin()
    with store.write() as uow:
        for actor in (CLERK, OFFICER, ADMIN):
            password_hash = store.env.hasher.hash(PASSWORD)
            add_staff(uow, admin, NOW, actor.name, actor.role.value, password_hash)
        publish_policy(uow, admin, NOW, POLICY_TEXT, "2026-1", NOW.date())
    add_patron(store, "P0001", given="Ada", family="Lovelace")
    owing = add_patron(store, "P0002", given="Grace", family="Hopper")
    add_patron(store, "P0003", given="Adam", family="Lovell")
    with store.write() as uow:
        fee = Fee(patron_id=owing, kind="damage", amount=350, balance=350, created_at=NOW)
        uow.session.add(fee)
    add_record_with_items(store, "The Analytical Engine", ["I0001", "I0002"])
    add_record_with_items(store, "Notes on Compilers", ["I0003"])
    yield store


def acknowledge_all(store: Store) -> None:
    """Every staff member has acknowledged the policy in force (PRIV-15)."""
    from core.privacy.training import acknowledge_training

    with store.write() as uow:
        for actor in (CLERK, OFFICER, ADMIN):
            acknowledge_training(uow, local_admin(), NOW, actor.name)


def make_app(
    store: Store, actor: Actor | None = CLERK, *, facilities: Facilities | None = None
) -> StaffApp:
    """The app with a fixed clock; with an actor it starts signed in (as after an SSH ticket)."""
    session = StaffSession(actor, SESSION_ID) if actor is not None else None
    return StaffApp(
        store,
        facilities or Facilities(library_name="Test Library"),
        fixed_clock,
        session=session,
        session_id=SESSION_ID,
        environ={},
    )


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every service call (and the calls their results start) has come back."""
    for _ in range(5):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_line(pilot: Pilot[None], text: str) -> None:
    """Type like a keyboard-wedge scanner: the characters, then Enter; then wait for results."""
    await pilot.press(*text, "enter")
    await settle(pilot)


def screen_text(app: StaffApp) -> str:
    """Everything the screen in front shows, as plain text."""
    from textual.widgets import Static

    parts = []
    for widget in app.screen.query(Static):
        parts.append(str(widget.render()))
    return "\n".join(parts)
