"""Legal requests and their disclosures (PRIV-12, PRIV-13)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated, never_reused_ids
from core.model.sealed import SealedLookup, SealedText

# A legal request is the library's record of what the law demanded and what it handed over; it
# is kept as a legal record, not by a patron retention rule, and removed by hand when the case is
# settled (PRIV-13: "what exactly was disclosed").
LEGAL = "legal request records: kept until the privacy officer deletes the closed case"
D, I, N = PiiClass.DIRECT, PiiClass.INDIRECT, PiiClass.NONE  # noqa: E741


class Instrument(enum.StrEnum):
    """The kind of legal instrument a request rests on (PRIV-13)."""

    SUBPOENA = "subpoena"
    COURT_ORDER = "court_order"
    WARRANT = "warrant"
    NSL = "nsl"  # national security letter
    OTHER = "other"


class RequestStatus(enum.StrEnum):
    """Where a legal request stands; only an approved one can lead to a disclosure."""

    RECEIVED = "received"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISCLOSED = "disclosed"
    CLOSED = "closed"


class LegalRequest(Base):
    """A request from an agency, its scope, and the privacy officer's review."""

    __tablename__ = "legal_requests"
    __table_args__ = never_reused_ids()

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=LEGAL)
    agency: Mapped[str] = annotated(String(200), pii=N, purpose="who asked", retention=LEGAL)
    instrument: Mapped[str] = annotated(String(16), pii=N, purpose="legal basis of the request", retention=LEGAL)
    court: Mapped[str] = annotated(String(200), default="", pii=N, purpose="issuing court", retention=LEGAL)
    case_number: Mapped[str] = annotated(String(100), default="", pii=N, purpose="the agency's case reference", retention=LEGAL)
    scope_classes: Mapped[str] = annotated(String(200), pii=N, purpose="data classes the request covers (JSON list)", retention=LEGAL)
    received_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=N, purpose="when it was received", retention=LEGAL)
    recorded_by: Mapped[str] = annotated(String(100), pii=I, purpose="staff member who recorded it", retention=LEGAL)
    status: Mapped[str] = annotated(String(16), default=RequestStatus.RECEIVED.value, pii=N, purpose="review stage", retention=LEGAL)
    decision_reason: Mapped[str | None] = annotated(String(1000), pii=N, purpose="why it was approved or rejected", retention=LEGAL)
    reviewed_by: Mapped[str | None] = annotated(String(100), pii=I, purpose="who reviewed it", retention=LEGAL)
    reviewed_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=N, purpose="when it was reviewed", retention=LEGAL)
    second_reviewed_by: Mapped[str | None] = annotated(String(100), pii=I, purpose="second reviewer under two-person review", retention=LEGAL)
    second_reviewed_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=N, purpose="when the second review happened", retention=LEGAL)
    closed_at: Mapped[dt.datetime | None] = annotated(UTCDateTime, pii=N, purpose="when the case was closed", retention=LEGAL)


class LegalRequestPatron(Base):
    """One patron named in a request's scope, by the barcode exactly as the agency gave it."""

    __tablename__ = "legal_request_patrons"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=LEGAL)
    request_id: Mapped[int] = annotated(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True, pii=N, purpose="which request", retention=LEGAL)
    barcode: Mapped[str] = annotated(SealedLookup(64, "patron.barcode"), pii=D, purpose="patron named in the request's scope", retention=LEGAL)


class Disclosure(Base):
    """A package handed over under an approved request, with the hash of the file given."""

    __tablename__ = "legal_disclosures"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=LEGAL)
    request_id: Mapped[int] = annotated(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True, pii=N, purpose="which request", retention=LEGAL)
    created_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=N, purpose="when it was disclosed", retention=LEGAL)
    disclosed_by: Mapped[str] = annotated(String(100), pii=I, purpose="staff member who disclosed it", retention=LEGAL)
    sha256: Mapped[str] = annotated(String(64), pii=N, purpose="hash of the encrypted package handed over", retention=LEGAL)
    classes: Mapped[str] = annotated(String(200), pii=N, purpose="data classes included (JSON list)", retention=LEGAL)
    patrons: Mapped[str] = annotated(SealedText(None, "legal.disclosed_barcodes"), pii=D, purpose="barcodes of the patrons included (JSON list)", retention=LEGAL)
    patrons_not_held: Mapped[int] = annotated(Integer, default=0, pii=N, purpose="scope barcodes with no record here", retention=LEGAL)
