"""Anonymous reports with small-cell suppression; the overdue staff report (PRIV-05, PRIV-11)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from core.errors import DomainError, PermissionDenied
from core.model import AuditEvent, CirculationCount, Fee, FeeStatus
from core.privacy.policy import publish_policy
from core.privacy.reports import run_report, suppress, suppress_sum
from core.services import circulation, holds
from core.services.actors import Actor, ActorKind, Role, local_admin, terminal_actor
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

ADMIN = local_admin("main")
CIRCULATION = Actor(ActorKind.STAFF, "cora", Role.CIRCULATION)
OFFICER = Actor(ActorKind.STAFF, "pia", Role.PRIVACY_OFFICER)


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0"), (1, "<5"), (2, "<5"), (3, "<5"), (4, "<5"), (5, "5"), (17, "17")]
)
def test_counts_under_k_are_suppressed(count: int, shown: str) -> None:
    assert suppress(count, 5) == shown


def test_sums_over_few_records_are_suppressed() -> None:
    assert suppress_sum(1234, 4, 5) == "-"
    assert suppress_sum(1234, 5, 5) == "12.34"
    assert suppress(3, 10) == "<10"


def add_counts(store: Store, rows: list[tuple[dt.date, str, str, int]]) -> None:
    with store.write() as uow:
        for day, category, event, count in rows:
            uow.session.add(
                CirculationCount(
                    day=day,
                    branch="main",
                    media_type="book",
                    patron_category=category,
                    event=event,
                    count=count,
                )
            )


def test_circulation_report_by_month_with_suppression(store: Store) -> None:
    feb1, feb20, mar2 = dt.date(2026, 2, 1), dt.date(2026, 2, 20), dt.date(2026, 3, 2)
    add_counts(
        store,
        [
            (feb1, "adult", "checkout", 2),
            (feb20, "adult", "checkout", 3),  # same month: 5 in all, shown
            (feb1, "adult", "checkin", 4),  # under 5: hidden
            (feb1, "child", "checkout", 1),
            (mar2, "adult", "renew", 9),
        ],
    )
    with store.write() as uow:
        report = run_report(uow, ADMIN, NOW, "circulation")
    assert report.columns == (
        "month",
        "branch",
        "media type",
        "category",
        "checkouts",
        "checkins",
        "renewals",
    )
    assert report.rows == (
        ("2026-02", "main", "book", "adult", "5", "<5", "0"),
        ("2026-02", "main", "book", "child", "<5", "0", "0"),
        ("2026-03", "main", "book", "adult", "0", "0", "9"),
    )
    with store.read() as uow:
        event = uow.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.subject) == ("report.anonymous", None)
    assert json.loads(event.detail) == {"report": "circulation", "rows": 3}


def test_holds_and_fees_reports_hold_no_patron(store: Store) -> None:
    record = add_record_with_items(store, "Invisible Man", ["I1"])
    patron_ids = [add_patron(store, f"P{i}", given=f"Name{i}") for i in range(6)]
    with store.write() as uow:
        for i in range(6):
            holds.place_hold(uow, ADMIN, NOW, f"P{i}", record_id=record)
        for i, patron_id in enumerate(patron_ids):
            status = FeeStatus.OPEN if i < 5 else FeeStatus.PAID
            uow.session.add(
                Fee(
                    patron_id=patron_id,
                    kind="overdue",
                    amount=150,
                    balance=150 if i < 5 else 0,
                    status=status.value,
                    created_at=NOW,
                )
            )
    with store.write() as uow:
        hold_report = run_report(uow, CIRCULATION, NOW, "holds")
        fee_report = run_report(uow, CIRCULATION, NOW, "fees")
    assert hold_report.rows == (("main", "waiting", "6"),)
    assert fee_report.rows == (
        ("overdue", "open", "5", "7.50", "7.50"),
        ("overdue", "paid", "<5", "-", "-"),
    )
    text = repr((hold_report, fee_report))
    for i in range(6):
        assert f"P{i}" not in text and f"Name{i}" not in text
    assert "Invisible Man" not in text


def setup_overdue(store: Store) -> None:
    add_record_with_items(store, "Beloved", ["I9"])
    add_patron(store, "P9", given="Toni", family="Wofford")
    with store.write() as uow:
        # Lent 23 days before NOW: a book is due at the end of the day two days before NOW.
        circulation.checkout(uow, ADMIN, NOW - dt.timedelta(days=23), "P9", "I9")


@pytest.mark.parametrize("actor", [CIRCULATION, ADMIN, terminal_actor("kiosk", "main")])
def test_overdue_report_is_refused_without_pii_reports(store: Store, actor: Actor) -> None:
    setup_overdue(store)
    with store.write() as uow, pytest.raises(PermissionDenied):
        run_report(uow, actor, NOW, "overdue")
    with store.read() as uow:
        reports = select(AuditEvent.action).where(AuditEvent.action.like("report.%"))
        assert uow.session.scalars(reports).all() == []


def test_overdue_report_for_the_privacy_officer_is_audited_by_count(store: Store) -> None:
    setup_overdue(store)
    with store.write() as uow:
        report = run_report(uow, OFFICER, NOW, "overdue")
    due = (NOW - dt.timedelta(days=2)).strftime("%Y-%m-%d")
    assert report.personal
    assert report.rows == (("P9", "Toni Wofford", "I9", "Beloved", due),)
    with store.read() as uow:
        event = uow.session.scalars(select(AuditEvent)).one()
    assert (event.actor, event.action, event.subject) == ("staff:pia", "report.personal", None)
    assert json.loads(event.detail) == {"report": "overdue", "rows": 1}
    for secret in ("P9", "Toni", "Wofford", "I9", "Beloved"):
        assert secret not in event.detail


def test_overdue_report_needs_the_current_training(store: Store) -> None:
    setup_overdue(store)
    with store.write() as uow:
        publish_policy(uow, ADMIN, NOW, "We keep little.", "2026-1", NOW.date())
    with store.write() as uow, pytest.raises(DomainError, match="training"):
        run_report(uow, OFFICER, NOW, "overdue")


def test_anonymous_reports_are_not_for_terminals(store: Store) -> None:
    with store.write() as uow, pytest.raises(PermissionDenied):
        run_report(uow, terminal_actor("kiosk", "main"), NOW, "holds")
