"""ORM lookups the privacy engine shares: a patron by barcode, and whether a consent is given."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.model import Consent, Patron
from core.policy.reasons import Reason

_PATRON_BY_BARCODE = select(Patron).where(Patron.barcode == bindparam("barcode"))
_HAS_CONSENT = select(Consent.id).where(
    Consent.patron_id == bindparam("patron_id"), Consent.kind == bindparam("kind")
)


def patron_by_barcode(session: Session, barcode: str) -> Patron:
    patron = session.scalars(_PATRON_BY_BARCODE, {"barcode": barcode}).one_or_none()
    if patron is None:
        raise NotFound(Reason.PATRON_NOT_FOUND)
    return patron


def has_consent(session: Session, patron_id: int, kind: str) -> bool:
    """Whether the patron has opted in to `kind` (PRIV-02: absent means no)."""
    found = session.scalar(_HAS_CONSENT, {"patron_id": patron_id, "kind": kind})
    return found is not None
