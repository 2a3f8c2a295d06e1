"""Legal requests: record, review, disclose within scope as encrypted packages, close (PRIV-13)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from core.audit import append_event
from core.errors import DomainError, ReticentError
from core.model.legal import (
    Disclosure,
    Instrument,
    LegalRequest,
    LegalRequestPatron,
    RequestStatus,
)
from core.policy.reasons import Reason
from core.privacy.destruction import record_destruction
from core.privacy.package import PACKAGE_FORMAT, check_passphrase, encrypt_package
from core.privacy.sharing import (
    APPROVED_STATUSES,
    SharedData,
    decode_classes,
    normalise_classes,
    request_scope_barcodes,
    share_with_third_party,
)
from core.services._queries import patron_by_barcode
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

MAX_REASON_CHARS = 450  # two reviews share the 1000-character decision column

Decision = Literal["approve", "reject"]


class LegalRequestNotFound(ReticentError):
    """No legal request has that number."""


@dataclass(frozen=True)
class DisclosureView:
    """One package handed over under a request."""

    id: int
    created_at: dt.datetime
    disclosed_by: str
    sha256: str
    classes: tuple[str, ...]
    patrons: tuple[str, ...]
    patrons_not_held: int


@dataclass(frozen=True)
class LegalRequestView:
    """A legal request as the privacy officer sees it."""

    id: int
    agency: str
    instrument: str
    court: str
    case_number: str
    patrons: tuple[str, ...]
    classes: tuple[str, ...]
    received_at: dt.datetime
    recorded_by: str
    status: str
    decision_reason: str | None
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    second_reviewed_by: str | None
    second_reviewed_at: dt.datetime | None
    closed_at: dt.datetime | None
    disclosures: tuple[DisclosureView, ...]

    @property
    def awaiting_second_review(self) -> bool:
        """One approval is in, and two-person review needs another."""
        return self.status == RequestStatus.RECEIVED.value and self.reviewed_by is not None


@dataclass(frozen=True)
class DisclosurePackage:
    """The encrypted file to hand over, with its hash as recorded in the audit log."""

    request_id: int
    disclosure_id: int
    sha256: str
    content: bytes
    classes: tuple[str, ...]
    patrons: tuple[str, ...]
    patrons_not_held: tuple[str, ...]


def record_request(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    *,
    agency: str,
    instrument: str,
    court: str,
    case_number: str,
    patrons: Sequence[str],
    classes: Iterable[str],
    received_at: dt.datetime | None = None,
) -> LegalRequestView:
    """Record a request as received; nothing can be disclosed until it is approved."""
    actor.require(Permission.LEGAL_REQUESTS)
    if not agency.strip():
        raise ValueError("the requesting agency is needed")
    if instrument not in {i.value for i in Instrument}:
        known = ", ".join(i.value for i in Instrument)
        raise ValueError(f"unknown instrument {instrument!r} (known: {known})")
    barcodes = list(dict.fromkeys(b.strip() for b in patrons if b.strip()))
    if not barcodes:
        raise ValueError("the scope must name at least one patron")
    scope = normalise_classes(classes)
    request = LegalRequest(
        agency=agency.strip(),
        instrument=instrument,
        court=court.strip(),
        case_number=case_number.strip(),
        scope_classes=json.dumps(list(scope)),
        received_at=received_at or now,
        recorded_by=actor.label,
        status=RequestStatus.RECEIVED.value,
    )
    uow.session.add(request)
    uow.session.flush()
    uow.session.add_all(LegalRequestPatron(request_id=request.id, barcode=b) for b in barcodes)
    _audit(uow, actor, now, "legal.record", request, patrons=len(barcodes))
    return _view(uow, request)


def review_request(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    request_id: int,
    decision: Decision,
    reason: str,
    *,
    two_person_review: bool = False,
) -> LegalRequestView:
    """Approve or reject a received request.

    With `two_person_review`, approval needs two different reviewers, so whoever recorded the
    request can never approve it alone; one rejection is always enough.
    """
    actor.require(Permission.LEGAL_REQUESTS)
    request = _load(uow, request_id)
    if request.status != RequestStatus.RECEIVED.value:
        raise DomainError(
            Reason.PERMISSION_DENIED,
            f"legal request {request_id} is {request.status}, not received",
        )
    if decision not in ("approve", "reject"):
        raise ValueError(f"unknown decision {decision!r}")
    reason = reason.strip()
    if not reason:
        raise ValueError("a review needs a reason")
    if len(reason) > MAX_REASON_CHARS:
        raise ValueError(f"the reason is longer than {MAX_REASON_CHARS} characters")
    first = request.reviewed_by is None
    if not first and request.reviewed_by == actor.label:
        raise DomainError(
            Reason.PERMISSION_DENIED, "two-person review: the second review needs another person"
        )
    if first:
        request.reviewed_by, request.reviewed_at = actor.label, now
        request.decision_reason = reason
    else:
        request.second_reviewed_by, request.second_reviewed_at = actor.label, now
        request.decision_reason = f"{request.decision_reason}\n{reason}"
    if decision == "reject":
        request.status = RequestStatus.REJECTED.value
    elif not two_person_review or not first:
        request.status = RequestStatus.APPROVED.value
    # else: one approval recorded; the request stays received until a second person approves.
    action = "legal.approve" if decision == "approve" else "legal.reject"
    _audit(uow, actor, now, action, request, review="first" if first else "second")
    return _view(uow, request)


def disclose(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, request_id: int, passphrase: str
) -> DisclosurePackage:
    """Build the encrypted package for an approved request, strictly within its scope.

    Only the patrons and data classes the request names are included, each through
    `share_with_third_party` (PRIV-12), so there is no second path out. The package's sha256 is
    written to the disclosures table and the audit log (PRIV-13).
    """
    actor.require(Permission.LEGAL_REQUESTS)
    check_passphrase(passphrase)
    request = _load(uow, request_id)
    if request.status not in APPROVED_STATUSES:
        raise DomainError(
            Reason.PERMISSION_DENIED,
            f"legal request {request_id} is {request.status}: only approved requests are disclosed",
        )
    classes = decode_classes(request.scope_classes)
    shared: list[SharedData] = []
    not_held: list[str] = []
    for barcode in request_scope_barcodes(uow.session, request.id):
        try:
            patron_by_barcode(uow.session, barcode)
        except DomainError:
            not_held.append(barcode)
            continue
        shared.append(
            share_with_third_party(
                uow, actor, now, request.agency, barcode, classes, legal_request_id=request.id
            )
        )
    document = {
        "format": PACKAGE_FORMAT,
        "created_at": now.isoformat(),
        "request": {
            "id": request.id,
            "agency": request.agency,
            "instrument": request.instrument,
            "court": request.court,
            "case_number": request.case_number,
            "received_at": request.received_at.isoformat(),
        },
        "classes": list(classes),
        "patrons": [{"barcode": s.patron_barcode, "data": s.data} for s in shared],
        "not_held": not_held,
    }
    plaintext = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    content = encrypt_package(plaintext, passphrase)
    digest = hashlib.sha256(content).hexdigest()
    included = tuple(s.patron_barcode for s in shared)
    row = Disclosure(
        request_id=request.id,
        created_at=now,
        disclosed_by=actor.label,
        sha256=digest,
        classes=json.dumps(list(classes)),
        patrons=json.dumps(list(included)),
        patrons_not_held=len(not_held),
    )
    uow.session.add(row)
    request.status = RequestStatus.DISCLOSED.value
    uow.session.flush()
    _audit(
        uow,
        actor,
        now,
        "legal.disclose",
        request,
        sha256=digest,
        patrons=len(included),
        not_held=len(not_held),
    )
    return DisclosurePackage(
        request.id, row.id, digest, content, classes, included, tuple(not_held)
    )


def close_request(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, request_id: int
) -> LegalRequestView:
    """Close a request at any stage; a closed request can never lead to a disclosure."""
    actor.require(Permission.LEGAL_REQUESTS)
    request = _load(uow, request_id)
    if request.status == RequestStatus.CLOSED.value:
        raise DomainError(Reason.PERMISSION_DENIED, f"legal request {request_id} is closed already")
    request.status = RequestStatus.CLOSED.value
    request.closed_at = now
    _audit(uow, actor, now, "legal.close", request)
    return _view(uow, request)


def delete_request(uow: UnitOfWork, actor: Actor, now: dt.datetime, request_id: int) -> None:
    """Delete a closed request with its scope and disclosure records, when the case is settled.

    The barcodes a request names are kept only as long as the legal record is (PRIV-07); the
    audit log keeps that the request existed, by number, without them.
    """
    actor.require(Permission.LEGAL_REQUESTS)
    request = _load(uow, request_id)
    if request.status != RequestStatus.CLOSED.value:
        raise DomainError(
            Reason.PERMISSION_DENIED, f"legal request {request_id} must be closed before deletion"
        )
    _audit(uow, actor, now, "legal.delete", request)
    record_destruction(uow.session, LegalRequest, [request.id])  # no restore brings it back
    uow.session.delete(request)
    uow.session.flush()


def list_requests(uow: UnitOfWork, actor: Actor, now: dt.datetime) -> tuple[LegalRequestView, ...]:
    """Every legal request, newest first; the listing names patrons, so it is audited (PRIV-05)."""
    actor.require(Permission.LEGAL_REQUESTS)
    requests = uow.session.scalars(select(LegalRequest).order_by(LegalRequest.id.desc())).all()
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="legal.list",
        subject=None,
        detail={"requests": len(requests)},
    )
    return tuple(_view(uow, r) for r in requests)


def _load(uow: UnitOfWork, request_id: int) -> LegalRequest:
    request = uow.session.get(LegalRequest, request_id)
    if request is None:
        raise LegalRequestNotFound(f"no legal request {request_id}")
    return request


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    action: str,
    request: LegalRequest,
    **extra: str | int,
) -> None:
    # PRIV-03: the request is named by its number; the barcodes in its scope never enter the log.
    detail: dict[str, str | int | bool | None] = {
        "request": request.id,
        "instrument": request.instrument,
        "status": request.status,
        "classes": ",".join(decode_classes(request.scope_classes)),
    }
    detail.update(extra)
    append_event(
        uow.session, now=now, actor=actor.label, action=action, subject=None, detail=detail
    )


def _view(uow: UnitOfWork, request: LegalRequest) -> LegalRequestView:
    disclosures = uow.session.scalars(
        select(Disclosure).where(Disclosure.request_id == request.id).order_by(Disclosure.id)
    )
    return LegalRequestView(
        id=request.id,
        agency=request.agency,
        instrument=request.instrument,
        court=request.court,
        case_number=request.case_number,
        patrons=request_scope_barcodes(uow.session, request.id),
        classes=decode_classes(request.scope_classes),
        received_at=request.received_at,
        recorded_by=request.recorded_by,
        status=request.status,
        decision_reason=request.decision_reason,
        reviewed_by=request.reviewed_by,
        reviewed_at=request.reviewed_at,
        second_reviewed_by=request.second_reviewed_by,
        second_reviewed_at=request.second_reviewed_at,
        closed_at=request.closed_at,
        disclosures=tuple(
            DisclosureView(
                id=d.id,
                created_at=d.created_at,
                disclosed_by=d.disclosed_by,
                sha256=d.sha256,
                classes=decode_classes(d.classes),
                patrons=tuple(str(b) for b in json.loads(d.patrons)),
                patrons_not_held=d.patrons_not_held,
            )
            for d in disclosures
        ),
    )
