"""Anonymous circulation counters: day, branch, media type, patron category; no ids (PRIV-03)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from core.model import CirculationCount

# Built once (see core/services/_queries.py). No counter object is kept in a session, so there
# is nothing to synchronise.
_ADD_ONE = (
    update(CirculationCount)
    .where(
        CirculationCount.day == bindparam("key_day"),
        CirculationCount.branch == bindparam("key_branch"),
        CirculationCount.media_type == bindparam("key_media_type"),
        CirculationCount.patron_category == bindparam("key_category"),
        CirculationCount.event == bindparam("key_event"),
    )
    .values(count=CirculationCount.count + 1)
    .execution_options(synchronize_session=False)
)


def count_circulation(
    session: Session, *, day: dt.date, branch: str, media_type: str, category: str, event: str
) -> None:
    """Add one to the day's counter; no time of day, so counters cannot be matched to loans."""
    key = {
        "key_day": day,
        "key_branch": branch,
        "key_media_type": media_type,
        "key_category": category,
        "key_event": event,
    }
    # The day's row exists for all but the first event of its kind: one UPDATE, usually.
    updated = session.execute(_ADD_ONE, key)
    if getattr(updated, "rowcount", 0):
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
