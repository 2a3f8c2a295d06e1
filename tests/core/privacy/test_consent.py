"""Opt-in consents: default off, explicit rows, withdrawal destroys what was kept (PRIV-02)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.errors import NotFound, PermissionDenied
from core.model import AuditEvent, Consent, ReadingHistory
from core.model.notices import SentNotice
from core.model.privacy import ConsentEvent
from core.policy.consent_kinds import CHECKOUT_HISTORY, NOTIFICATION_HISTORY
from core.privacy.consents import (
    check_kind,
    consent_show,
    grant_consent,
    withdraw_consent,
)
from core.privacy.policy import PrivacyRequestError, publish_policy
from core.services import circulation, patrons
from core.services.actors import Actor, ActorKind, Role, local_admin, terminal_actor
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

DESK = Actor(ActorKind.STAFF, "cora", Role.CIRCULATION)
KIOSK = terminal_actor("kiosk1", "main")


def _count(store: Store, model: type, patron_id: int | None = None) -> int:
    query = select(func.count()).select_from(model)
    if patron_id is not None:
        query = query.where(model.patron_id == patron_id)  # type: ignore[attr-defined]
    with store.read() as uow:
        return int(uow.session.scalar(query) or 0)


@pytest.fixture
def lib(store: Store) -> Store:
    add_record_with_items(store, "A Private Matter", ["I1", "I2", "I3"])
    add_patron(store, "P1")
    add_patron(store, "P2", given="Grace", family="Hopper")
    return store


def _patron_id(store: Store, barcode: str) -> int:
    with store.read() as uow:
        return patrons.require_patron(uow, barcode)


def _borrow_and_return(store: Store, patron: str, item: str) -> None:
    with store.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, patron, item)
    with store.write() as uow:
        circulation.checkin(uow, KIOSK, NOW + dt.timedelta(days=1), item)


def _notice(store: Store, patron_id: int) -> None:
    with store.write() as uow:
        uow.session.add(
            SentNotice(
                patron_id=patron_id, kind="overdue", channel="email", sent_at=NOW, summary="1 item"
            )
        )


def test_every_consent_is_off_by_default_and_no_history_is_kept(lib: Store) -> None:
    _borrow_and_return(lib, "P1", "I1")
    assert _count(lib, Consent) == 0
    assert _count(lib, ReadingHistory) == 0  # PRIV-03: no history without consent


def test_grant_keeps_history_and_records_the_event(lib: Store) -> None:
    with lib.write() as uow:
        publish_policy(uow, local_admin(), NOW, "text", "7", NOW.date())
        change = grant_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "desk")
    assert change.changed and change.granted
    _borrow_and_return(lib, "P1", "I1")
    _borrow_and_return(lib, "P2", "I2")
    with lib.read() as uow:
        consent = uow.session.scalars(select(Consent)).one()
        event = uow.session.scalars(select(ConsentEvent)).one()
        history = [h.patron_id for h in uow.session.scalars(select(ReadingHistory))]
    assert (consent.kind, consent.channel, consent.policy_version) == (
        CHECKOUT_HISTORY,
        "desk",
        "7",
    )
    assert (event.kind, event.granted, event.channel, event.actor, event.policy_version) == (
        CHECKOUT_HISTORY,
        True,
        "desk",
        "staff:cora",
        "7",
    )
    assert history == [consent.patron_id]  # only the patron who opted in


def test_granting_twice_changes_nothing(lib: Store) -> None:
    with lib.write() as uow:
        grant_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "desk")
        again = grant_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "web")
    assert not again.changed
    assert _count(lib, Consent) == 1 and _count(lib, ConsentEvent) == 1


def test_withdrawal_destroys_reading_history_in_the_same_transaction(lib: Store) -> None:
    with lib.write() as uow:
        grant_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "desk")
        grant_consent(uow, DESK, NOW, "P2", CHECKOUT_HISTORY, "desk")
    _borrow_and_return(lib, "P1", "I1")
    _borrow_and_return(lib, "P1", "I2")
    _borrow_and_return(lib, "P2", "I3")
    assert _count(lib, ReadingHistory) == 3
    with lib.write() as uow:
        change = withdraw_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "kiosk")
        # Inside the transaction that withdrew it, the history is already gone.
        left = uow.session.scalar(select(func.count(ReadingHistory.id)))
    assert change.deleted == 2 and change.changed and left == 1
    with lib.read() as uow:
        kept = list(uow.session.scalars(select(ReadingHistory)))
        events = [(e.granted, e.channel) for e in uow.session.scalars(select(ConsentEvent))]
    assert len(kept) == 1  # the other patron's history is untouched
    assert (False, "kiosk") in events
    _borrow_and_return(lib, "P1", "I1")
    assert _count(lib, ReadingHistory) == 1  # and nothing new is kept after withdrawal


def test_withdrawal_of_notification_history_deletes_sent_notices(lib: Store) -> None:
    p1, p2 = _patron_id(lib, "P1"), _patron_id(lib, "P2")
    with lib.write() as uow:
        grant_consent(uow, DESK, NOW, "P1", NOTIFICATION_HISTORY, "desk")
    _notice(lib, p1)
    _notice(lib, p1)
    _notice(lib, p2)
    with lib.write() as uow:
        change = withdraw_consent(uow, DESK, NOW, "P1", NOTIFICATION_HISTORY, "desk")
    assert change.deleted == 2
    assert _count(lib, SentNotice, p1) == 0 and _count(lib, SentNotice, p2) == 1


def test_withdrawal_without_consent_still_leaves_nothing_behind(lib: Store) -> None:
    _notice(lib, _patron_id(lib, "P1"))  # a row that should never have been kept
    with lib.write() as uow:
        change = withdraw_consent(uow, DESK, NOW, "P1", NOTIFICATION_HISTORY, "desk")
        nothing = withdraw_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "desk")
    assert change.deleted == 1 and not change.changed
    assert not nothing.changed and nothing.deleted == 0
    assert _count(lib, SentNotice) == 0
    assert _count(lib, ConsentEvent) == 1  # the deletion is on record, the no-op is not


def test_data_sharing_consent_is_the_permission_itself(lib: Store) -> None:
    with lib.write() as uow:
        grant_consent(uow, DESK, NOW, "P1", "data_sharing:state-library_2", "web")
    assert _count(lib, Consent) == 1
    with lib.write() as uow:
        change = withdraw_consent(uow, DESK, NOW, "P1", "data_sharing:state-library_2", "web")
    assert change.changed and change.deleted == 0 and _count(lib, Consent) == 0


@pytest.mark.parametrize(
    "kind",
    [
        "",
        "reading",
        "data_sharing:",
        "data_sharing:Upper",
        "data_sharing:a b",
        "data_sharing:" + "x" * 41,
    ],
)
def test_unknown_kinds_are_refused(lib: Store, kind: str) -> None:
    with pytest.raises(PrivacyRequestError):
        check_kind(kind)
    with lib.write() as uow, pytest.raises(PrivacyRequestError):
        grant_consent(uow, DESK, NOW, "P1", kind, "desk")


def test_known_kinds() -> None:
    for kind in ("checkout_history", "notification_history", "hold_shelf_name", "data_sharing:x"):
        assert check_kind(kind) == kind


def test_permissions_and_unknown_patron(lib: Store) -> None:
    with lib.write() as uow, pytest.raises(PermissionDenied):
        grant_consent(uow, KIOSK, NOW, "P1", CHECKOUT_HISTORY, "kiosk")
    with lib.write() as uow, pytest.raises(NotFound):
        grant_consent(uow, DESK, NOW, "nobody", CHECKOUT_HISTORY, "desk")
    with lib.write() as uow, pytest.raises(PrivacyRequestError):
        grant_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "telepathy")


def test_changes_and_views_are_audited_by_pseudonym(lib: Store) -> None:
    with lib.write() as uow:
        grant_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "desk")
        withdraw_consent(uow, DESK, NOW, "P1", CHECKOUT_HISTORY, "desk")
        report = consent_show(uow, DESK, NOW, "P1")
        pseudonym = uow.env.pseudonyms.patron(patrons.require_patron(uow, "P1"))
    with lib.read() as uow:
        events = list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["consent.grant", "consent.withdraw", "consent.view"]
    assert all(e.subject == pseudonym and e.actor == "staff:cora" for e in events)
    dumped = " ".join(e.detail for e in events)
    assert "P1" not in dumped and "Lovelace" not in dumped
    assert report.current == ()
    assert [(h.kind, h.granted) for h in report.history] == [
        (CHECKOUT_HISTORY, True),
        (CHECKOUT_HISTORY, False),
    ]
