"""ORM classes of the store; every column is annotated with its PII class, purpose and retention."""

# Tables of the privacy engine register themselves on Base.metadata when imported.
from core.model import legal, notices, privacy, retention  # noqa: F401
from core.model.audit import AuditEvent
from core.model.base import Base, DataClass, PiiClass, column_annotations
from core.model.catalog import Item, ItemStatus, Record
from core.model.circulation import Fee, FeePayment, FeeStatus, Hold, HoldStatus, Loan
from core.model.instance import Instance
from core.model.patrons import Consent, Patron, ReadingHistory
from core.model.replays import Sip2Replay
from core.model.staff import SessionTicket, SipAccount, StaffKey, StaffUser
from core.model.stats import CirculationCount

__all__ = [
    "AuditEvent",
    "Base",
    "CirculationCount",
    "Consent",
    "DataClass",
    "Fee",
    "FeePayment",
    "FeeStatus",
    "Hold",
    "HoldStatus",
    "Instance",
    "Item",
    "ItemStatus",
    "Loan",
    "Patron",
    "PiiClass",
    "ReadingHistory",
    "Record",
    "SessionTicket",
    "Sip2Replay",
    "SipAccount",
    "StaffKey",
    "StaffUser",
    "column_annotations",
]
