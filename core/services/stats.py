"""Anonymous circulation counters: day, branch, media type, patron category; no ids (PRIV-03)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.model import CirculationCount


def count_circulation(
    session: Session, *, day: dt.date, branch: str, media_type: str, category: str, event: str
) -> None:
    """Add one to the day's counter; no time of day, so counters cannot be matched to loans."""
    key = (
        (CirculationCount.day == day)
        & (CirculationCount.branch == branch)
        & (CirculationCount.media_type == media_type)
        & (CirculationCount.patron_category == category)
        & (CirculationCount.event == event)
    )
    existing = session.scalar(select(CirculationCount.id).where(key))
    if existing is not None:
        session.execute(
            update(CirculationCount)
            .where(CirculationCount.id == existing)
            .values(count=CirculationCount.count + 1)
        )
        return
    session.add(
        CirculationCount(
            day=day,
            branch=branch,
            media_type=media_type,
            patron_category=category,
            event=event,
            count=1,
        )
    )
    session.flush()
