"""Privacy policy versions and acknowledgements (PRIV-01)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from core.errors import PermissionDenied
from core.model import AuditEvent, Patron
from core.model.privacy import PolicyAck
from core.privacy.policy import (
    PrivacyRequestError,
    acknowledge_policy,
    current_policy,
    patron_needs_acknowledgement,
    policy_status,
    publish_policy,
)
from core.services.actors import Actor, ActorKind, Role, local_admin, terminal_actor
from core.store.uow import Store
from tests.conftest import NOW, add_patron

ADMIN = local_admin()
TODAY = NOW.date()
CIRCULATION = Actor(ActorKind.STAFF, "cora", Role.CIRCULATION)
OFFICER = Actor(ActorKind.STAFF, "pia", Role.PRIVACY_OFFICER)


def _publish(
    store: Store, version: str, effective_on: dt.date, text: str = "We keep little."
) -> None:
    with store.write() as uow:
        publish_policy(uow, ADMIN, NOW, text, version, effective_on)


def test_publish_records_text_digest_and_is_audited(store: Store) -> None:
    text = "Your reading is your own.\n"
    with store.write() as uow:
        view = publish_policy(uow, ADMIN, NOW, text, "2026-1", TODAY)
    assert view.sha256 == hashlib.sha256(text.encode()).hexdigest()
    with store.read() as uow:
        current = current_policy(uow.session, NOW)
        events = list(uow.session.scalars(select(AuditEvent)))
    assert current is not None and current.version == "2026-1" and current.text == text
    assert [(e.action, e.subject) for e in events] == [("policy.publish", None)]
    assert view.sha256 in events[0].detail


@pytest.mark.parametrize("actor", [CIRCULATION, terminal_actor("k", "main")])
def test_circulation_staff_and_terminals_cannot_publish(store: Store, actor: Actor) -> None:
    with store.write() as uow, pytest.raises(PermissionDenied):
        publish_policy(uow, actor, NOW, "text", "1", TODAY)


def test_the_privacy_officer_publishes(store: Store) -> None:
    with store.write() as uow:
        assert publish_policy(uow, OFFICER, NOW, "text", "1", TODAY).version == "1"


@pytest.mark.parametrize(
    ("version", "text", "effective", "message"),
    [
        ("1", "again", TODAY, "already published"),
        ("2", "earlier", TODAY - dt.timedelta(days=1), "before that of a published version"),
        ("two words", "text", TODAY, "policy version must be"),
        ("", "text", TODAY, "policy version must be"),
        ("3", "   \n", TODAY, "empty"),
    ],
)
def test_publish_refusals(
    store: Store, version: str, text: str, effective: dt.date, message: str
) -> None:
    _publish(store, "1", TODAY)
    with store.write() as uow, pytest.raises(PrivacyRequestError, match=message):
        publish_policy(uow, ADMIN, NOW, text, version, effective)


def test_a_version_is_current_only_from_its_effective_date(store: Store) -> None:
    with store.read() as uow:
        assert current_policy(uow.session, NOW) is None
    _publish(store, "1", TODAY)
    _publish(store, "2", TODAY + dt.timedelta(days=10))
    with store.read() as uow:
        now_view = current_policy(uow.session, NOW)
        later = current_policy(uow.session, NOW + dt.timedelta(days=10))
        status = policy_status(uow.session, NOW)
    assert now_view is not None and now_view.version == "1"
    assert later is not None and later.version == "2"
    assert status.upcoming == "2"


def test_acknowledgement_records_version_channel_and_pseudonym(store: Store) -> None:
    patron_id = add_patron(store, "P1")
    _publish(store, "1", TODAY)
    with store.write() as uow:
        acknowledge_policy(uow, CIRCULATION, NOW, "P1", "desk")
        pseudonym = uow.env.pseudonyms.patron(patron_id)
    with store.read() as uow:
        patron = uow.session.get_one(Patron, patron_id)
        acks = list(uow.session.scalars(select(PolicyAck)))
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "policy.acknowledge")
        ).one()
        needs = patron_needs_acknowledgement(uow.session, NOW, patron_id)
    assert patron.policy_version == "1" and not needs
    assert [(a.patron_id, a.version, a.channel) for a in acks] == [(patron_id, "1", "desk")]
    assert event.subject == pseudonym
    assert "P1" not in event.detail and "Lovelace" not in event.detail  # PRIV-03


def test_publishing_a_new_version_asks_everyone_again(store: Store) -> None:
    first, second = add_patron(store, "P1"), add_patron(store, "P2")
    _publish(store, "1", TODAY)
    with store.write() as uow:
        acknowledge_policy(uow, ADMIN, NOW, "P1", "desk")
    with store.read() as uow:
        status = policy_status(uow.session, NOW)
        assert not patron_needs_acknowledgement(uow.session, NOW, first)
        assert patron_needs_acknowledgement(uow.session, NOW, second)
    assert (status.version, status.acknowledged, status.needing_acknowledgement) == ("1", 1, 1)
    _publish(store, "2", TODAY)
    with store.read() as uow:
        status = policy_status(uow.session, NOW)
        assert patron_needs_acknowledgement(uow.session, NOW, first)
    assert (status.version, status.acknowledged, status.needing_acknowledgement) == ("2", 0, 2)


def test_nothing_to_acknowledge_before_a_policy_is_published(store: Store) -> None:
    patron_id = add_patron(store, "P1")
    with store.read() as uow:
        status = policy_status(uow.session, NOW)
        assert not patron_needs_acknowledgement(uow.session, NOW, patron_id)
    assert (status.version, status.acknowledged, status.needing_acknowledgement) == (None, 0, 0)
    with store.write() as uow, pytest.raises(PrivacyRequestError, match="no privacy policy"):
        acknowledge_policy(uow, ADMIN, NOW, "P1", "desk")


def test_channels_and_terminals(store: Store) -> None:
    add_patron(store, "P1")
    _publish(store, "1", TODAY)
    kiosk = terminal_actor("k", "main")
    with store.write() as uow, pytest.raises(PrivacyRequestError, match="unknown channel"):
        acknowledge_policy(uow, ADMIN, NOW, "P1", "fax")
    with store.write() as uow, pytest.raises(PrivacyRequestError, match="kiosk"):
        acknowledge_policy(uow, kiosk, NOW, "P1", "desk")
    with store.write() as uow:
        acknowledge_policy(uow, kiosk, NOW, "P1", "kiosk")
    with store.read() as uow:
        ack = uow.session.scalars(select(PolicyAck)).one()
    assert ack.channel == "kiosk"
