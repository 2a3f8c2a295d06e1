"""The append-only, hash-chained audit log; patrons appear only as keyed pseudonyms (PRIV-15)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated

AUDIT = "audit events rule (checkpointed so the chain still verifies)"
I = PiiClass.INDIRECT  # noqa: E741


class AuditEvent(Base):
    """Who did what to whose record, when; never which item (PRIV-03)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="order of the chain", retention=AUDIT)
    at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="when", retention=AUDIT)
    actor: Mapped[str] = annotated(String(100), pii=I, purpose="who acted (staff user, terminal, system)", retention=AUDIT)
    action: Mapped[str] = annotated(String(64), pii=I, purpose="what was done", retention=AUDIT)
    subject: Mapped[str | None] = annotated(String(40), index=True, pii=I, purpose="keyed pseudonym of the patron concerned", retention=AUDIT)
    detail: Mapped[str] = annotated(Text, default="", pii=I, purpose="non-identifying detail (JSON)", retention=AUDIT)
    prev_hash: Mapped[str] = annotated(String(64), pii=PiiClass.NONE, purpose="hash chain", retention=AUDIT)
    hash: Mapped[str] = annotated(String(64), pii=PiiClass.NONE, purpose="hash chain", retention=AUDIT)
