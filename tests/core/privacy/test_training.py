"""Staff training gate (PRIV-15) and the first view of a patron per staff session (PRIV-05)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.errors import DomainError, PermissionDenied
from core.model import AuditEvent, StaffUser
from core.policy.reasons import Reason
from core.privacy.consents import consent_show
from core.privacy.export import export_patron
from core.privacy.policy import PrivacyRequestError, publish_policy
from core.privacy.training import (
    TRAINING_REQUIRED,
    acknowledge_training,
    staff_needing_training,
)
from core.services import patrons
from core.services.accounts import add_staff
from core.services.actors import Actor, ActorKind, Role, local_admin, terminal_actor
from core.store.uow import Store
from tests.conftest import NOW, add_patron

ADMIN = local_admin()
CORA = Actor(ActorKind.STAFF, "cora", Role.CIRCULATION)
PIA = Actor(ActorKind.STAFF, "pia", Role.PRIVACY_OFFICER)
TODAY = NOW.date()


@pytest.fixture
def lib(store: Store) -> Store:
    add_patron(store, "P1")
    with store.write() as uow:
        add_staff(uow, ADMIN, NOW, "cora", "circulation", "x")
        add_staff(uow, ADMIN, NOW, "pia", "privacy_officer", "x")
        add_staff(uow, ADMIN, NOW, "gone", "circulation", "x")
        uow.session.scalars(
            select(StaffUser).where(StaffUser.username == "gone")
        ).one().disabled = True
    return store


def _publish(store: Store, version: str, effective_on: dt.date = TODAY) -> None:
    with store.write() as uow:
        publish_policy(uow, ADMIN, NOW, f"policy {version}", version, effective_on)


def _views(store: Store) -> int:
    with store.read() as uow:
        return len(
            list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "patron.view")))
        )


def test_nothing_is_gated_before_a_policy_is_published(lib: Store) -> None:
    with lib.write() as uow:
        assert patrons.find_patron(uow, CORA, NOW, "P1").barcode == "P1"
        assert staff_needing_training(uow.session, NOW) == []
        with pytest.raises(PrivacyRequestError, match="no privacy policy"):
            acknowledge_training(uow, CORA, NOW, "cora")


def test_staff_without_training_see_no_patron(lib: Store) -> None:
    _publish(lib, "1")
    views_before = _views(lib)
    for show in (patrons.find_patron, patrons.patron_detail):
        with lib.write() as uow, pytest.raises(DomainError) as refused:
            show(uow, CORA, NOW, "P1")
        assert refused.value.reason is Reason.PERMISSION_DENIED
        assert str(refused.value) == TRAINING_REQUIRED
    with lib.write() as uow, pytest.raises(DomainError, match=TRAINING_REQUIRED):
        export_patron(uow, PIA, NOW, "P1")
    with lib.write() as uow, pytest.raises(DomainError, match=TRAINING_REQUIRED):
        consent_show(uow, CORA, NOW, "P1")
    assert _views(lib) == views_before  # a refused look is not a view


def test_acknowledged_training_opens_the_record_until_the_next_version(lib: Store) -> None:
    _publish(lib, "1")
    with lib.write() as uow:
        assert acknowledge_training(uow, CORA, NOW, "cora") == "1"  # for herself
        assert patrons.patron_detail(uow, CORA, NOW, "P1").patron.barcode == "P1"
        assert staff_needing_training(uow.session, NOW) == ["pia"]  # disabled accounts left out
    _publish(lib, "2", NOW.date() + dt.timedelta(days=3))
    later = NOW + dt.timedelta(days=3)
    with lib.write() as uow:
        patrons.find_patron(uow, CORA, NOW, "P1")  # version 2 is not in force yet
        with pytest.raises(DomainError, match=TRAINING_REQUIRED):
            patrons.find_patron(uow, CORA, later, "P1")
        assert staff_needing_training(uow.session, later) == ["cora", "pia"]


def test_who_may_record_a_training_acknowledgement(lib: Store) -> None:
    _publish(lib, "1")
    with lib.write() as uow, pytest.raises(PermissionDenied):
        acknowledge_training(uow, CORA, NOW, "pia")  # not for someone else
    with lib.write() as uow:
        acknowledge_training(uow, ADMIN, NOW, "pia")  # the administrator, from a signed sheet
        with pytest.raises(PrivacyRequestError, match="no staff user"):
            acknowledge_training(uow, ADMIN, NOW, "nobody")
    with lib.read() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.training_ack")
        ).one()
        assert staff_needing_training(uow.session, NOW) == ["cora"]
    assert event.actor == "admin:local" and '"version":"1"' in event.detail


def test_terminals_and_the_local_administrator_are_not_gated(lib: Store) -> None:
    _publish(lib, "1")
    with lib.write() as uow:
        patrons.find_patron(uow, terminal_actor("k", "main"), NOW, "P1")
        patrons.find_patron(uow, ADMIN, NOW, "P1")


def test_a_view_is_audited_once_per_session(lib: Store) -> None:
    with lib.write() as uow:
        for _ in range(3):
            patrons.find_patron(uow, CORA, NOW, "P1", session_id="tty-1")
        patrons.patron_detail(uow, CORA, NOW, "P1", session_id="tty-1")
    assert _views(lib) == 1
    with lib.write() as uow:
        patrons.find_patron(uow, CORA, NOW, "P1", session_id="tty-2")  # a new session
        patrons.find_patron(uow, PIA, NOW, "P1", session_id="tty-1")  # someone else
    assert _views(lib) == 3
    with lib.read() as uow:
        details = [
            e.detail
            for e in uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "patron.view")
            )
        ]
    assert details == ['{"session_id":"tty-1"}', '{"session_id":"tty-2"}', '{"session_id":"tty-1"}']


def test_without_a_session_every_view_is_audited(lib: Store) -> None:
    with lib.write() as uow:
        patrons.find_patron(uow, CORA, NOW, "P1")
        patrons.find_patron(uow, CORA, NOW, "P1")
        patrons.find_patron(uow, terminal_actor("k", "main"), NOW, "P1")  # terminals: never
    assert _views(lib) == 2
