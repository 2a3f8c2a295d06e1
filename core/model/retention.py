"""The purge ledger, purge runs and audit checkpoints (PRIV-07, PRIV-15)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated
from core.model.patrons import Patron

LEDGER = "kept while the instance exists, so a restored backup never brings deleted data back"
RUNS = "kept while the instance exists (counts only)"
CHECKPOINT = "kept while the instance exists (the audit chain starts from it)"
I, N = PiiClass.INDIRECT, PiiClass.NONE  # noqa: E741


class PurgeLedgerEntry(Base):
    """A keyed hash of a purged patron's barcode and the day: replayed after every restore."""

    __tablename__ = "purge_ledger"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=LEDGER)
    # No index: a replay reads the whole ledger once, and random keys would slow every purge.
    digest: Mapped[str] = annotated(String(64), pii=I, purpose="HMAC-SHA256 of the purged barcode under the ledger sub-key; useless without the store", retention=LEDGER)
    purged_on: Mapped[dt.date] = annotated(Date, pii=N, purpose="day of the purge; a later patron reusing the barcode is kept", retention=LEDGER)


class DestructionLedgerEntry(Base):
    """A keyed hash of one row deleted for privacy (an ended loan, a withdrawn consent and what
    it covered, a deleted notice or hold, a deleted legal request): replayed after every restore.
    """

    __tablename__ = "destruction_ledger"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=LEDGER)
    digest: Mapped[str] = annotated(String(64), pii=N, purpose="HMAC-SHA256 of the table and the never-reused id of the deleted row under the destruction-ledger sub-key; names no one", retention=LEDGER)


class PurgeRun(Base):
    """One purge run: when, and how many rows of each data class it removed (never who)."""

    __tablename__ = "purge_runs"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=RUNS)
    at: Mapped[dt.datetime] = annotated(UTCDateTime, index=True, pii=N, purpose="when the purge ran (self-audit)", retention=RUNS)
    reading_history: Mapped[int] = annotated(Integer, pii=N, purpose="count removed", retention=RUNS)
    settled_fees: Mapped[int] = annotated(Integer, pii=N, purpose="count removed", retention=RUNS)
    sent_notices: Mapped[int] = annotated(Integer, pii=N, purpose="count removed", retention=RUNS)
    staff_notes: Mapped[int] = annotated(Integer, pii=N, purpose="count cleared", retention=RUNS)
    patrons: Mapped[int] = annotated(Integer, pii=N, purpose="count removed", retention=RUNS)
    audit_events: Mapped[int] = annotated(Integer, pii=N, purpose="count removed", retention=RUNS)


class AuditCheckpoint(Base):
    """The last audit event removed by retention: the chain verifies onwards from its hash."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=CHECKPOINT)
    last_event_id: Mapped[int] = annotated(Integer, pii=N, purpose="id of the last removed event", retention=CHECKPOINT)
    last_hash: Mapped[str] = annotated(String(64), pii=N, purpose="hash of the last removed event", retention=CHECKPOINT)
    at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=N, purpose="when the events were removed", retention=CHECKPOINT)


# Deleting a patron sets `guardian_id` of their wards to NULL; without this index every deleted
# patron would scan the whole patrons table, making a large purge quadratic (PRIV-07).
Index("ix_patrons_guardian_id", Patron.guardian_id)
