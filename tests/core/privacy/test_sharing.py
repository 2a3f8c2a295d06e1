"""Sharing with third parties: only with consent or under an approved legal request (PRIV-12)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.errors import DomainError, PermissionDenied
from core.model import AuditEvent, Consent
from core.policy.reasons import Reason
from core.privacy import legal
from core.privacy.sharing import share_with_third_party, sharing_consent_kind
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.services.circulation import checkout
from core.store.uow import Store
from tests.conftest import add_patron, add_record_with_items

OFFICER = Actor(ActorKind.STAFF, "olivia", Role.PRIVACY_OFFICER)
CLERK = Actor(ActorKind.STAFF, "carl", Role.CIRCULATION)
RECIPIENT = "statewide-ill"


def _consent(store: Store, now: dt.datetime, patron_id: int, recipient: str) -> None:
    with store.write() as uow:
        uow.session.add(
            Consent(
                patron_id=patron_id,
                kind=sharing_consent_kind(recipient),
                granted_at=now,
                channel="desk",
            )
        )


def _approved_request(store: Store, now: dt.datetime, classes: tuple[str, ...]) -> int:
    with store.write() as uow:
        request_id = legal.record_request(
            uow,
            OFFICER,
            now,
            agency="County Sheriff",
            instrument="court_order",
            court="District Court",
            case_number="17",
            patrons=["P1"],
            classes=classes,
        ).id
        legal.review_request(uow, OFFICER, now, request_id, "approve", "valid order")
    return request_id


def test_sharing_without_consent_is_refused(store: Store, now: dt.datetime) -> None:
    add_patron(store, "P1")
    with store.write() as uow, pytest.raises(DomainError) as refused:
        share_with_third_party(uow, OFFICER, now, RECIPIENT, "P1", ["profile"])
    assert refused.value.reason is Reason.PERMISSION_DENIED


def test_consent_for_another_recipient_does_not_count(store: Store, now: dt.datetime) -> None:
    patron = add_patron(store, "P1")
    _consent(store, now, patron, "someone-else")
    with store.write() as uow, pytest.raises(DomainError):
        share_with_third_party(uow, OFFICER, now, RECIPIENT, "P1", ["profile"])


def test_sharing_with_consent_is_audited_without_data(store: Store, now: dt.datetime) -> None:
    add_record_with_items(store, "Quiet Book", ["I1"])
    patron = add_patron(store, "P1", given="Zelda", family="Quartermain")
    _consent(store, now, patron, RECIPIENT)
    with store.write() as uow:
        checkout(uow, local_admin(), now, "P1", "I1")
    with store.write() as uow:
        shared = share_with_third_party(uow, OFFICER, now, RECIPIENT, "P1", ["loans", "profile"])
        pseudonym = uow.env.pseudonyms.patron(patron)
    assert shared.basis == "consent"
    assert shared.classes == ("profile", "loans")
    assert shared.data["profile"][0]["given_name"] == "Zelda"
    assert "pin_hash" not in shared.data["profile"][0]
    assert [row["title"] for row in shared.data["loans"]] == ["Quiet Book"]
    with store.read() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.share")
        ).one()
    assert event.subject == pseudonym
    assert RECIPIENT in event.detail and "profile,loans" in event.detail
    for absent in ("P1", "Zelda", "Quartermain", "Quiet Book", "I1"):
        assert absent not in event.detail


def test_a_clerk_cannot_share(store: Store, now: dt.datetime) -> None:
    patron = add_patron(store, "P1")
    _consent(store, now, patron, RECIPIENT)
    with store.write() as uow, pytest.raises(PermissionDenied):
        share_with_third_party(uow, CLERK, now, RECIPIENT, "P1", ["profile"])


def test_unknown_data_class_is_refused(store: Store, now: dt.datetime) -> None:
    patron = add_patron(store, "P1")
    _consent(store, now, patron, RECIPIENT)
    with store.write() as uow, pytest.raises(ValueError, match="pin"):
        share_with_third_party(uow, OFFICER, now, RECIPIENT, "P1", ["pin"])


def test_an_approved_legal_request_is_a_basis(store: Store, now: dt.datetime) -> None:
    add_patron(store, "P1")
    request_id = _approved_request(store, now, ("profile", "fees"))
    with store.write() as uow:
        shared = share_with_third_party(
            uow, OFFICER, now, "County Sheriff", "P1", ["fees"], legal_request_id=request_id
        )
    assert shared.basis == f"legal_request:{request_id}"
    assert shared.data == {"fees": ()}


@pytest.mark.parametrize(
    ("recipient", "barcode", "classes"),
    [
        ("County Sheriff", "P2", ("profile",)),  # patron outside the scope
        ("County Sheriff", "P1", ("reading_history",)),  # class outside the scope
        ("Someone Else", "P1", ("profile",)),  # not the requesting agency
    ],
)
def test_legal_basis_covers_only_its_scope(
    store: Store, now: dt.datetime, recipient: str, barcode: str, classes: tuple[str, ...]
) -> None:
    add_patron(store, "P1")
    add_patron(store, "P2")
    request_id = _approved_request(store, now, ("profile",))
    with store.write() as uow, pytest.raises(DomainError) as refused:
        share_with_third_party(
            uow, OFFICER, now, recipient, barcode, classes, legal_request_id=request_id
        )
    assert refused.value.reason is Reason.PERMISSION_DENIED


def test_a_request_not_yet_approved_is_no_basis(store: Store, now: dt.datetime) -> None:
    add_patron(store, "P1")
    with store.write() as uow:
        request_id = legal.record_request(
            uow,
            OFFICER,
            now,
            agency="County Sheriff",
            instrument="subpoena",
            court="",
            case_number="",
            patrons=["P1"],
            classes=["profile"],
        ).id
    with store.write() as uow, pytest.raises(DomainError):
        share_with_third_party(
            uow, OFFICER, now, "County Sheriff", "P1", ["profile"], legal_request_id=request_id
        )
    with store.write() as uow, pytest.raises(DomainError):
        share_with_third_party(
            uow, OFFICER, now, "County Sheriff", "P1", ["profile"], legal_request_id=999
        )
