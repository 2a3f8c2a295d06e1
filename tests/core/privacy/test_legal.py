"""Legal requests: recording, review, disclosure only from approved requests and within scope."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import DomainError, PermissionDenied
from core.model import AuditEvent, ReadingHistory
from core.model.legal import Disclosure, LegalRequestPatron
from core.policy.reasons import Reason
from core.privacy import legal
from core.privacy import package as package_
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.services.circulation import checkout
from core.store.uow import Store
from tests.conftest import add_patron, add_record_with_items

OFFICER = Actor(ActorKind.STAFF, "olivia", Role.PRIVACY_OFFICER)
SECOND_OFFICER = Actor(ActorKind.STAFF, "peter", Role.PRIVACY_OFFICER)
CLERK = Actor(ActorKind.STAFF, "carl", Role.CIRCULATION)
PASSPHRASE = "correct horse battery staple"


def _record(
    store: Store,
    now: dt.datetime,
    patrons: tuple[str, ...] = ("P1",),
    classes: tuple[str, ...] = ("profile",),
    actor: Actor = OFFICER,
) -> int:
    with store.write() as uow:
        view = legal.record_request(
            uow,
            actor,
            now,
            agency="County Sheriff",
            instrument="warrant",
            court="District Court",
            case_number="CR-2026-17",
            patrons=list(patrons),
            classes=classes,
        )
    return view.id


def _review(
    store: Store,
    now: dt.datetime,
    request_id: int,
    decision: legal.Decision = "approve",
    actor: Actor = OFFICER,
    *,
    two_person: bool = False,
) -> legal.LegalRequestView:
    with store.write() as uow:
        return legal.review_request(
            uow, actor, now, request_id, decision, "checked", two_person_review=two_person
        )


def _disclose(store: Store, now: dt.datetime, request_id: int) -> legal.DisclosurePackage:
    with store.write() as uow:
        return legal.disclose(uow, OFFICER, now, request_id, PASSPHRASE)


def _open(package: legal.DisclosurePackage) -> Any:
    return json.loads(package_.decrypt_package(package.content, PASSPHRASE))


def _audit_text(store: Store) -> str:
    with store.read() as uow:
        events = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return "\n".join(f"{e.action} {e.subject} {e.detail}" for e in events)


@pytest.mark.parametrize("actor", [CLERK, local_admin()])
def test_only_the_privacy_officer_records_requests(
    store: Store, now: dt.datetime, actor: Actor
) -> None:
    with pytest.raises(PermissionDenied):
        _record(store, now, actor=actor)


def test_a_recorded_request_is_received_with_its_scope(store: Store, now: dt.datetime) -> None:
    request_id = _record(store, now, patrons=("P1", " P2", "P1"), classes=("loans", "profile"))
    with store.write() as uow:
        (view,) = legal.list_requests(uow, OFFICER, now)
    assert view.id == request_id
    assert view.status == "received"
    assert view.patrons == ("P1", "P2")
    assert view.classes == ("profile", "loans")
    assert view.recorded_by == OFFICER.label
    assert view.disclosures == ()


@pytest.mark.parametrize(
    ("field", "value"),
    [("instrument", "letter"), ("classes", ("profile", "dna")), ("patrons", ["", " "])],
)
def test_invalid_requests_are_refused(
    store: Store, now: dt.datetime, field: str, value: object
) -> None:
    arguments: dict[str, object] = {
        "agency": "FBI",
        "instrument": "nsl",
        "court": "",
        "case_number": "",
        "patrons": ["P1"],
        "classes": ("profile",),
        field: value,
    }
    with store.write() as uow, pytest.raises(ValueError):
        legal.record_request(uow, OFFICER, now, **arguments)  # type: ignore[arg-type]


def test_review_approves_or_rejects_once(store: Store, now: dt.datetime) -> None:
    approved = _record(store, now)
    rejected = _record(store, now)
    assert _review(store, now, approved).status == "approved"
    assert _review(store, now, rejected, "reject").status == "rejected"
    for request_id in (approved, rejected):
        with pytest.raises(DomainError) as refused:
            _review(store, now, request_id, actor=SECOND_OFFICER)
        assert refused.value.reason is Reason.PERMISSION_DENIED


def test_a_clerk_cannot_review(store: Store, now: dt.datetime) -> None:
    request_id = _record(store, now)
    with pytest.raises(PermissionDenied):
        _review(store, now, request_id, actor=CLERK)


def test_two_person_review_needs_a_second_person(store: Store, now: dt.datetime) -> None:
    request_id = _record(store, now)  # recorded by OFFICER
    first = _review(store, now, request_id, two_person=True)
    assert first.status == "received" and first.awaiting_second_review
    with pytest.raises(DomainError):
        _disclose(store, now, request_id)  # one approval is not enough to disclose
    with pytest.raises(DomainError):  # the recorder cannot be the sole reviewer
        _review(store, now, request_id, two_person=True)
    second = _review(store, now, request_id, actor=SECOND_OFFICER, two_person=True)
    assert second.status == "approved"
    assert (second.reviewed_by, second.second_reviewed_by) == (
        OFFICER.label,
        SECOND_OFFICER.label,
    )


def test_under_two_person_review_one_rejection_is_enough(store: Store, now: dt.datetime) -> None:
    request_id = _record(store, now)
    assert _review(store, now, request_id, "reject", two_person=True).status == "rejected"


@pytest.mark.parametrize("stage", ["received", "rejected", "closed", "approved_then_closed"])
def test_disclosure_is_refused_unless_approved(store: Store, now: dt.datetime, stage: str) -> None:
    add_patron(store, "P1")
    request_id = _record(store, now)
    if stage == "rejected":
        _review(store, now, request_id, "reject")
    if stage == "approved_then_closed":
        _review(store, now, request_id)
    if stage in ("closed", "approved_then_closed"):
        with store.write() as uow:
            legal.close_request(uow, OFFICER, now, request_id)
    with pytest.raises(DomainError) as refused:
        _disclose(store, now, request_id)
    assert refused.value.reason is Reason.PERMISSION_DENIED
    with store.read() as uow:
        assert uow.session.scalars(select(Disclosure)).all() == []


def test_disclosure_stays_within_the_scope(store: Store, now: dt.datetime) -> None:
    add_record_with_items(store, "Secret Garden", ["I1"])
    add_record_with_items(store, "Hidden Valley", ["I2"])
    inside = add_patron(store, "P1", given="Inés", family="Inside", pin="1234")
    add_patron(store, "P2", given="Otto", family="Outside")
    with store.write() as uow:
        checkout(uow, local_admin(), now, "P1", "I1")
        checkout(uow, local_admin(), now, "P2", "I2")
        uow.session.add(
            ReadingHistory(
                patron_id=inside, title="Forbidden Tome", author="X", returned_on=now.date()
            )
        )
    request_id = _record(store, now, patrons=("P1", "P9"), classes=("profile", "loans"))
    _review(store, now, request_id)
    package = _disclose(store, now, request_id)

    assert package.patrons == ("P1",)
    assert package.patrons_not_held == ("P9",)
    assert package.sha256 == hashlib.sha256(package.content).hexdigest()
    document = _open(package)
    assert document["classes"] == ["profile", "loans"]
    assert document["not_held"] == ["P9"]
    (entry,) = document["patrons"]
    assert entry["barcode"] == "P1"
    assert set(entry["data"]) == {"profile", "loans"}
    assert entry["data"]["profile"][0]["family_name"] == "Inside"
    assert [loan["title"] for loan in entry["data"]["loans"]] == ["Secret Garden"]
    text = package_.decrypt_package(package.content, PASSPHRASE).decode()
    # Outside the scope: another patron, another class, and never a PIN hash (PRIV-09).
    for absent in ("P2", "Otto", "Outside", "Hidden Valley", "Forbidden Tome", "pin", "argon2"):
        assert absent not in text
    # The package is encrypted: nothing of it is readable without the passphrase.
    for secret in (b"Secret Garden", b"Inside", b"CR-2026-17", b"County Sheriff"):
        assert secret not in package.content


def test_disclosure_is_recorded_and_audited_without_names(store: Store, now: dt.datetime) -> None:
    add_patron(store, "P1", given="Inés", family="Inside")
    request_id = _record(store, now)
    _review(store, now, request_id)
    package = _disclose(store, now, request_id)
    with store.write() as uow:
        (view,) = legal.list_requests(uow, OFFICER, now)
    assert view.status == "disclosed"
    (disclosure,) = view.disclosures
    assert disclosure.sha256 == package.sha256
    assert disclosure.patrons == ("P1",)
    assert disclosure.classes == ("profile",)
    assert disclosure.disclosed_by == OFFICER.label
    audit = _audit_text(store)
    assert package.sha256 in audit
    assert "legal.disclose" in audit and "privacy.share" in audit
    for absent in ("P1", "Inés", "Inside"):
        assert absent not in audit


def test_package_opens_only_with_its_passphrase(store: Store, now: dt.datetime) -> None:
    add_patron(store, "P1")
    request_id = _record(store, now)
    _review(store, now, request_id)
    package = _disclose(store, now, request_id)
    with pytest.raises(package_.PackageError):
        package_.decrypt_package(package.content, "not the passphrase at all")
    envelope = json.loads(package.content)
    sealed = bytearray(envelope["ciphertext"].encode())
    sealed[10] = ord("A") if sealed[10] != ord("A") else ord("B")
    envelope["ciphertext"] = sealed.decode()
    with pytest.raises(package_.PackageError):
        package_.decrypt_package(json.dumps(envelope).encode(), PASSPHRASE)
    with pytest.raises(package_.PackageError):
        package_.decrypt_package(b"plain text", PASSPHRASE)


def test_a_short_passphrase_is_refused_before_anything_is_recorded(
    store: Store, now: dt.datetime
) -> None:
    add_patron(store, "P1")
    request_id = _record(store, now)
    _review(store, now, request_id)
    with store.write() as uow, pytest.raises(ValueError, match="passphrase"):
        legal.disclose(uow, OFFICER, now, request_id, "short")
    with store.read() as uow:
        assert uow.session.scalars(select(Disclosure)).all() == []


def test_closing_ends_a_request(store: Store, now: dt.datetime) -> None:
    request_id = _record(store, now)
    later = now + dt.timedelta(days=3)
    with store.write() as uow:
        view = legal.close_request(uow, OFFICER, later, request_id)
    assert view.status == "closed" and view.closed_at == later
    with store.write() as uow, pytest.raises(DomainError):
        legal.close_request(uow, OFFICER, later, request_id)


def test_unknown_request_is_reported(store: Store, now: dt.datetime) -> None:
    with store.write() as uow, pytest.raises(legal.LegalRequestNotFound):
        legal.review_request(uow, OFFICER, now, 42, "approve", "ok")


def test_views_are_frozen(store: Store, now: dt.datetime) -> None:
    _record(store, now)
    with store.write() as uow:
        (view,) = legal.list_requests(uow, OFFICER, now)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.status = "approved"  # type: ignore[misc]


def test_only_a_closed_request_is_deleted_with_its_records(store: Store, now: dt.datetime) -> None:
    add_patron(store, "P1")
    request_id = _record(store, now)
    _review(store, now, request_id)
    _disclose(store, now, request_id)
    with store.write() as uow, pytest.raises(DomainError):
        legal.delete_request(uow, OFFICER, now, request_id)
    with store.write() as uow:
        legal.close_request(uow, OFFICER, now, request_id)
        legal.delete_request(uow, OFFICER, now, request_id)
    with store.read() as uow:
        assert uow.session.scalars(select(Disclosure)).all() == []
        assert uow.session.scalars(select(LegalRequestPatron)).all() == []
    with store.write() as uow:
        assert legal.list_requests(uow, OFFICER, now) == ()
    assert "legal.delete" in _audit_text(store)
