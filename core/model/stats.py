"""Anonymous circulation counters: no patron, no item, one day granularity (PRIV-03, PRIV-11)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, annotated

STATS = "kept, aggregated only"
N = PiiClass.NONE


class CirculationCount(Base):
    """How many checkouts, checkins or renewals of a kind happened on one day at one branch."""

    __tablename__ = "circulation_counts"
    __table_args__ = (UniqueConstraint("day", "branch", "media_type", "patron_category", "event"),)

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=STATS)
    day: Mapped[dt.date] = annotated(Date, pii=N, purpose="statistics", retention=STATS)
    branch: Mapped[str] = annotated(String(32), pii=N, purpose="statistics", retention=STATS)
    media_type: Mapped[str] = annotated(String(32), pii=N, purpose="statistics", retention=STATS)
    patron_category: Mapped[str] = annotated(String(32), pii=N, purpose="statistics", retention=STATS)
    event: Mapped[str] = annotated(String(16), pii=N, purpose="statistics", retention=STATS)
    count: Mapped[int] = annotated(Integer, default=0, pii=N, purpose="statistics", retention=STATS)
