"""Which waiting hold a returned item fills, and places in the hold queue."""

from __future__ import annotations

import datetime as dt

import pytest

from core.policy.holds import HoldCandidate, hold_to_trap, queue_position

NOW = dt.datetime(2025, 3, 5, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
RECORD, OTHER_RECORD = 100, 200
ITEM, OTHER_COPY = 10, 11


def hold(
    hold_id: int,
    *,
    days_ago: int,
    item_id: int | None = None,
    record_id: int = RECORD,
    expires_at: dt.datetime | None = None,
) -> HoldCandidate:
    return HoldCandidate(
        hold_id=hold_id,
        record_id=record_id,
        item_id=item_id,
        pickup_branch="main",
        placed_at=NOW - days_ago * DAY,
        expires_at=expires_at,
    )


TITLE_OLD = hold(1, days_ago=10)
TITLE_NEW = hold(2, days_ago=2)
THIS_COPY = hold(3, days_ago=5, item_id=ITEM)
THIS_COPY_OLDEST = hold(4, days_ago=20, item_id=ITEM)
OTHER_COPY_OLDEST = hold(5, days_ago=30, item_id=OTHER_COPY)
OTHER_TITLE = hold(6, days_ago=40, record_id=OTHER_RECORD)
EXPIRED = hold(7, days_ago=50, expires_at=NOW - DAY)
EXPIRES_NOW = hold(8, days_ago=50, expires_at=NOW)
EXPIRES_LATER = hold(9, days_ago=15, expires_at=NOW + DAY)
SAME_TIME_LOW_ID = hold(11, days_ago=10)
SAME_TIME_HIGH_ID = hold(12, days_ago=10)


@pytest.mark.parametrize(
    ("holds", "expected"),
    [
        ([], None),
        # an item-level hold on this copy is filled when nothing else waits
        ([THIS_COPY], THIS_COPY),
        # but not a hold on another copy of the same title, nor on another title
        ([OTHER_COPY_OLDEST], None),
        ([OTHER_TITLE], None),
        ([OTHER_COPY_OLDEST, OTHER_TITLE, TITLE_NEW], TITLE_NEW),
        # the oldest wins, whatever its level
        ([TITLE_NEW, TITLE_OLD], TITLE_OLD),
        ([TITLE_OLD, THIS_COPY], TITLE_OLD),
        ([TITLE_OLD, THIS_COPY_OLDEST], THIS_COPY_OLDEST),
        # expired holds are skipped; a hold expiring at this instant has expired
        ([EXPIRED, TITLE_NEW], TITLE_NEW),
        ([EXPIRES_NOW], None),
        ([EXPIRES_LATER, TITLE_OLD], EXPIRES_LATER),
        # placed in the same instant: the lower id was placed first
        ([SAME_TIME_HIGH_ID, SAME_TIME_LOW_ID], SAME_TIME_LOW_ID),
    ],
)
def test_hold_to_trap(holds: list[HoldCandidate], expected: HoldCandidate | None) -> None:
    assert hold_to_trap(item_id=ITEM, record_id=RECORD, holds=holds, now=NOW) == expected


QUEUE = [TITLE_NEW, THIS_COPY, OTHER_TITLE, TITLE_OLD, OTHER_COPY_OLDEST, SAME_TIME_HIGH_ID]


@pytest.mark.parametrize(
    ("hold_id", "expected"),
    [
        (OTHER_COPY_OLDEST.hold_id, 1),
        (TITLE_OLD.hold_id, 2),
        (SAME_TIME_HIGH_ID.hold_id, 3),  # same instant as TITLE_OLD, higher id
        (THIS_COPY.hold_id, 4),
        (TITLE_NEW.hold_id, 5),
        (OTHER_TITLE.hold_id, 1),  # alone on its record
    ],
)
def test_queue_position(hold_id: int, expected: int) -> None:
    assert queue_position(hold_id, QUEUE) == expected


def test_queue_position_of_an_unknown_hold() -> None:
    with pytest.raises(ValueError, match="not among"):
        queue_position(999, QUEUE)
