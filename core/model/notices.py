"""Notices sent to patrons, kept only with `notification_history` consent (PRIV-10)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated, never_reused_ids

NOTICE = "sent notices rule (default 30 days); deleted when notification_history is withdrawn"
I = PiiClass.INDIRECT  # noqa: E741


class SentNotice(Base):
    """A notice that was delivered; only for patrons who opted in to keeping them."""

    __tablename__ = "sent_notices"
    __table_args__ = never_reused_ids()

    id: Mapped[int] = annotated(primary_key=True, pii=I, purpose="identity", retention=NOTICE)
    patron_id: Mapped[int] = annotated(ForeignKey("patrons.id", ondelete="CASCADE"), index=True, pii=I, purpose="whose notice", retention=NOTICE)
    kind: Mapped[str] = annotated(String(32), pii=I, purpose="hold_ready, overdue or fee", retention=NOTICE)
    channel: Mapped[str] = annotated(String(16), pii=I, purpose="email or print", retention=NOTICE)
    sent_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=I, purpose="when it was sent", retention=NOTICE)
    summary: Mapped[str] = annotated(String(500), pii=I, purpose="what it said (counts, never titles)", retention=NOTICE)
