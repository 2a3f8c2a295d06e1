"""Hold queues: which waiting hold a returned item fills, and a hold's place in its queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class HoldCandidate:
    """A waiting hold as the queue sees it; no patron, so queue logic never handles PII."""

    hold_id: int
    record_id: int
    item_id: int | None  # set for an item-level hold (this copy only)
    pickup_branch: str
    placed_at: dt.datetime
    expires_at: dt.datetime | None  # when the patron stops wanting it; None: never


def _queue_order(hold: HoldCandidate) -> tuple[dt.datetime, int]:
    # First come, first served; the id settles holds placed in the same instant.
    return (hold.placed_at, hold.hold_id)


def _satisfied_by(hold: HoldCandidate, item_id: int, record_id: int) -> bool:
    if hold.item_id is not None:
        return hold.item_id == item_id
    return hold.record_id == record_id


def hold_to_trap(
    *, item_id: int, record_id: int, holds: Sequence[HoldCandidate], now: dt.datetime
) -> HoldCandidate | None:
    """Return the oldest unexpired hold this item fills, or None.

    An item fills an item-level hold on itself and a title-level hold on its record; an
    item-level hold has no priority over an older title-level one. `holds` are the holds still
    waiting for an item (not those already set aside).
    """
    eligible = [
        hold
        for hold in holds
        if _satisfied_by(hold, item_id, record_id)
        and (hold.expires_at is None or hold.expires_at > now)
    ]
    return min(eligible, key=_queue_order, default=None)


def queue_position(hold_id: int, holds: Sequence[HoldCandidate]) -> int:
    """Return the 1-based place of the hold among the holds on the same record."""
    for hold in holds:
        if hold.hold_id == hold_id:
            break
    else:
        raise ValueError(f"hold {hold_id} is not among the holds given")
    ahead = sum(
        1
        for other in holds
        if other.record_id == hold.record_id and _queue_order(other) < _queue_order(hold)
    )
    return ahead + 1
