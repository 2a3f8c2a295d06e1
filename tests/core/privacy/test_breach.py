"""The breach report: per-class counts of patrons reachable in a window, and a draft (PRIV-15)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.errors import PermissionDenied
from core.model import AuditEvent, Fee, Hold, Patron, ReadingHistory
from core.model.notices import SentNotice
from core.privacy.breach import breach_report, draft_notice
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.services.circulation import checkout
from core.store.uow import Store
from tests.conftest import add_patron, add_record_with_items

OFFICER = Actor(ActorKind.STAFF, "olivia", Role.PRIVACY_OFFICER)
CLERK = Actor(ActorKind.STAFF, "carl", Role.CIRCULATION)


def _populate(store: Store, now: dt.datetime) -> None:
    record = add_record_with_items(store, "Telltale Title", ["I1", "I2"])
    ada = add_patron(store, "P1", given="Ada", family="Lovelace", pin="1234")
    grace = add_patron(store, "P2", given="Grace", family="Hopper")
    late = add_patron(store, "P3", given="Newton", family="Latecomer")
    with store.write() as uow:
        uow.session.get_one(Patron, grace).email = "grace@example.org"
        # Registered after the window: their data was not there to be reached.
        uow.session.get_one(Patron, late).created_on = (now + dt.timedelta(days=30)).date()
        uow.session.get_one(Patron, late).phone = "555-0199"
        checkout(uow, local_admin(), now, "P1", "I1")
        uow.session.add_all(
            [
                Hold(patron_id=grace, record_id=record, pickup_branch="main", placed_at=now),
                Fee(patron_id=ada, kind="lost", amount=500, balance=500, created_at=now),
                ReadingHistory(
                    patron_id=grace, title="Telltale Title", author="A", returned_on=now.date()
                ),
                SentNotice(
                    patron_id=ada, kind="overdue", channel="email", sent_at=now, summary="1 item"
                ),
                # Sent after the window ended: not counted.
                SentNotice(
                    patron_id=grace,
                    kind="overdue",
                    channel="email",
                    sent_at=now + dt.timedelta(days=20),
                    summary="1 item",
                ),
            ]
        )


def _window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - dt.timedelta(days=7), now + dt.timedelta(days=1)


def test_counts_per_data_class(store: Store, now: dt.datetime) -> None:
    _populate(store, now)
    start, end = _window(now)
    with store.write() as uow:
        report = breach_report(uow, OFFICER, now, start, end)
    counts = {c.data_class: c.patrons for c in report.classes}
    assert report.patrons == 2
    assert counts == {
        "name": 2,
        "contact": 1,
        "pin_hash": 1,
        "staff_note": 0,
        "loans": 1,
        "holds": 1,
        "fees": 1,
        "reading_history": 1,
        "notices": 1,
    }
    assert "purged" in report.caveat


def test_the_report_is_audited_with_counts_only(store: Store, now: dt.datetime) -> None:
    _populate(store, now)
    start, end = _window(now)
    with store.write() as uow:
        breach_report(uow, OFFICER, now, start, end)
    with store.read() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.breach_report")
        ).one()
    assert event.subject is None
    assert '"count_name":2' in event.detail
    for absent in ("P1", "P2", "Ada", "Grace", "Telltale", "example.org"):
        assert absent not in event.detail


@pytest.mark.parametrize("actor", [CLERK, local_admin()])
def test_only_pii_report_staff_may_run_it(store: Store, now: dt.datetime, actor: Actor) -> None:
    start, end = _window(now)
    with store.write() as uow, pytest.raises(PermissionDenied):
        breach_report(uow, actor, now, start, end)


def test_a_reversed_window_is_refused(store: Store, now: dt.datetime) -> None:
    start, end = _window(now)
    with store.write() as uow, pytest.raises(ValueError):
        breach_report(uow, OFFICER, now, end, start)


def test_the_draft_notice_names_nobody(store: Store, now: dt.datetime) -> None:
    _populate(store, now)
    start, end = _window(now)
    with store.write() as uow:
        report = breach_report(uow, OFFICER, now, start, end)
    draft = draft_notice(report)
    assert "[LIBRARY NAME]" in draft and "[WHAT HAPPENED" in draft and "[CONTACT]" in draft
    assert "hashed PIN" in draft and "new PIN" in draft
    assert "staff note" not in draft  # nobody had one: the class is not listed
    for absent in ("P1", "Ada", "Lovelace", "Grace", "Hopper", "Telltale", "example.org"):
        assert absent not in draft
    filled = draft_notice(report, library_name="Town Library", contact="desk@town.example")
    assert "Town Library" in filled and "desk@town.example" in filled


def test_an_empty_store_drafts_a_placeholder_list(store: Store, now: dt.datetime) -> None:
    start, end = _window(now)
    with store.write() as uow:
        report = breach_report(uow, OFFICER, now, start, end)
    assert report.patrons == 0
    draft = draft_notice(report)
    assert "[DATA CONCERNED]" in draft and "PIN" not in draft
