"""The one way data about a patron leaves the system for a third party (PRIV-12)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import append_event
from core.errors import DomainError
from core.model import Fee, Hold, Item, Loan, Patron, ReadingHistory, Record
from core.model.legal import LegalRequest, LegalRequestPatron, RequestStatus
from core.model.notices import SentNotice
from core.policy.reasons import Reason
from core.services._queries import has_consent, patron_by_barcode
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

# The classes of patron data a consent or a legal request can cover. The PIN hash, failed PIN
# attempts and staff notes or blocks are in none of them: they are never handed over (PRIV-09).
DATA_CLASSES: tuple[str, ...] = (
    "profile",
    "loans",
    "holds",
    "fees",
    "reading_history",
    "notices",
)
CONSENT_PREFIX = "data_sharing:"
# Statuses in which a request stands approved: a disclosed request was approved before it.
APPROVED_STATUSES = frozenset({RequestStatus.APPROVED.value, RequestStatus.DISCLOSED.value})

Scalar = str | int | bool | None
Row = Mapping[str, Scalar]


@dataclass(frozen=True)
class SharedData:
    """What was released about one patron to one recipient, and on what basis."""

    recipient: str
    patron_barcode: str
    basis: str  # "consent" or "legal_request:<id>"
    classes: tuple[str, ...]
    data: Mapping[str, tuple[Row, ...]]


def sharing_consent_kind(recipient: str) -> str:
    """The consent kind a patron grants to let data go to `recipient` (PRIV-02, PRIV-12)."""
    return CONSENT_PREFIX + recipient


def normalise_classes(classes: Iterable[str]) -> tuple[str, ...]:
    """The given data classes, checked, without repeats, in the canonical order."""
    wanted = {c.strip() for c in classes if c.strip()}
    unknown = sorted(wanted - set(DATA_CLASSES))
    if unknown:
        raise ValueError(
            f"unknown data class {', '.join(unknown)} (known: {', '.join(DATA_CLASSES)})"
        )
    if not wanted:
        raise ValueError("at least one data class is needed")
    return tuple(c for c in DATA_CLASSES if c in wanted)


def decode_classes(text: str) -> tuple[str, ...]:
    """Data classes stored as a JSON list."""
    loaded = json.loads(text)
    return tuple(str(c) for c in loaded)


def request_scope_barcodes(session: Session, request_id: int) -> tuple[str, ...]:
    """The barcodes named in a request's scope, in the order they were recorded."""
    rows = session.scalars(
        select(LegalRequestPatron.barcode)
        .where(LegalRequestPatron.request_id == request_id)
        .order_by(LegalRequestPatron.id)
    )
    return tuple(rows)


def share_with_third_party(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    recipient: str,
    patron_barcode: str,
    data_classes: Iterable[str],
    *,
    legal_request_id: int | None = None,
) -> SharedData:
    """Release data about one patron to a third party, or refuse (PRIV-12).

    The basis is either the patron's `data_sharing:<recipient>` consent, or an approved legal
    request naming this recipient as its agency and covering this patron and every class asked
    for. Every release is audited with the patron's pseudonym, the recipient and the classes,
    never with the data itself.
    """
    classes = normalise_classes(data_classes)
    session = uow.session
    if legal_request_id is None:
        actor.require(Permission.EXPORT_PATRON)
        patron = patron_by_barcode(session, patron_barcode)
        if not has_consent(session, patron.id, sharing_consent_kind(recipient)):
            raise DomainError(
                Reason.PERMISSION_DENIED, "no data sharing consent for this recipient"
            )
        basis = "consent"
    else:
        actor.require(Permission.LEGAL_REQUESTS)
        _check_legal_basis(session, legal_request_id, recipient, patron_barcode, classes)
        patron = patron_by_barcode(session, patron_barcode)
        basis = f"legal_request:{legal_request_id}"
    data = {name: _COLLECTORS[name](session, patron) for name in classes}
    append_event(
        session,
        now=now,
        actor=actor.label,
        action="privacy.share",
        subject=uow.env.pseudonyms.patron(patron.id),
        detail={
            "recipient": recipient,
            "basis": basis,
            "classes": ",".join(classes),
        },
    )
    return SharedData(recipient, patron.barcode, basis, classes, data)


def _check_legal_basis(
    session: Session,
    request_id: int,
    recipient: str,
    barcode: str,
    classes: tuple[str, ...],
) -> None:
    # PRIV-13: disclosure only from an approved request and only within its scope.
    request = session.get(LegalRequest, request_id)
    if request is None or request.status not in APPROVED_STATUSES:
        raise DomainError(
            Reason.PERMISSION_DENIED, "data may be shared only under an approved legal request"
        )
    if request.agency != recipient:
        raise DomainError(Reason.PERMISSION_DENIED, "the recipient is not the requesting agency")
    if barcode not in request_scope_barcodes(session, request_id):
        raise DomainError(Reason.PERMISSION_DENIED, "the patron is outside the request's scope")
    outside = set(classes) - set(decode_classes(request.scope_classes))
    if outside:
        raise DomainError(
            Reason.PERMISSION_DENIED, "a data class asked for is outside the request's scope"
        )


def _when(moment: dt.datetime | dt.date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _profile(session: Session, patron: Patron) -> tuple[Row, ...]:
    return (
        {
            "barcode": patron.barcode,
            "given_name": patron.given_name,
            "family_name": patron.family_name,
            "category": patron.category,
            "home_branch": patron.home_branch,
            "expires_on": _when(patron.expires_on),
            "email": patron.email,
            "phone": patron.phone,
            "is_minor": patron.is_minor,
            "created_on": _when(patron.created_on),
            "last_activity_on": _when(patron.last_activity_on),
        },
    )


def _loans(session: Session, patron: Patron) -> tuple[Row, ...]:
    rows = session.execute(
        select(Item.barcode, Record.title, Record.author, Loan.checked_out_at, Loan.due_at)
        .join(Item, Loan.item_id == Item.id)
        .join(Record, Item.record_id == Record.id)
        .where(Loan.patron_id == patron.id)
        .order_by(Loan.checked_out_at, Loan.id)
    )
    return tuple(
        {
            "item_barcode": barcode,
            "title": title,
            "author": author,
            "checked_out_at": _when(out),
            "due_at": _when(due),
        }
        for barcode, title, author, out, due in rows
    )


def _holds(session: Session, patron: Patron) -> tuple[Row, ...]:
    rows = session.execute(
        select(Record.title, Hold.placed_at, Hold.status, Hold.pickup_branch)
        .join(Record, Hold.record_id == Record.id)
        .where(Hold.patron_id == patron.id)
        .order_by(Hold.placed_at, Hold.id)
    )
    return tuple(
        {"title": title, "placed_at": _when(placed), "status": status, "pickup_branch": branch}
        for title, placed, status, branch in rows
    )


def _fees(session: Session, patron: Patron) -> tuple[Row, ...]:
    fees = session.scalars(
        select(Fee).where(Fee.patron_id == patron.id).order_by(Fee.created_at, Fee.id)
    )
    return tuple(
        {
            "kind": fee.kind,
            "amount": fee.amount,
            "balance": fee.balance,
            "status": fee.status,
            "created_at": _when(fee.created_at),
            "settled_at": _when(fee.settled_at),
        }
        for fee in fees
    )


def _reading_history(session: Session, patron: Patron) -> tuple[Row, ...]:
    rows = session.scalars(
        select(ReadingHistory)
        .where(ReadingHistory.patron_id == patron.id)
        .order_by(ReadingHistory.returned_on, ReadingHistory.id)
    )
    return tuple(
        {"title": r.title, "author": r.author, "returned_on": _when(r.returned_on)} for r in rows
    )


def _notices(session: Session, patron: Patron) -> tuple[Row, ...]:
    rows = session.scalars(
        select(SentNotice)
        .where(SentNotice.patron_id == patron.id)
        .order_by(SentNotice.sent_at, SentNotice.id)
    )
    return tuple(
        {"kind": n.kind, "channel": n.channel, "sent_at": _when(n.sent_at), "summary": n.summary}
        for n in rows
    )


_COLLECTORS: Mapping[str, Callable[[Session, Patron], tuple[Row, ...]]] = {
    "profile": _profile,
    "loans": _loans,
    "holds": _holds,
    "fees": _fees,
    "reading_history": _reading_history,
    "notices": _notices,
}
