"""Checkout and renewal decisions, and the due date a renewal gives."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.policy.blocks import Block
from core.policy.loans import checkout_refusal, renewal_refusal, renewed_due_date
from core.policy.reasons import Reason
from core.policy.rules import Calendar, LoanRule

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 5, 10, 0, tzinfo=UTC)  # a Wednesday
CALENDAR = Calendar()  # UTC, Sunday closed
BOOK = LoanRule()  # 21 days, 2 renewals, 30 of the type at once
NO_VIDEO = LoanRule(max_loans=0)
NONE: frozenset[Block] = frozenset()


@pytest.mark.parametrize(
    ("blocks", "rule", "of_type", "status", "for_other", "expected"),
    [
        (NONE, BOOK, 0, "available", False, None),
        (NONE, BOOK, 29, "available", False, None),
        (NONE, BOOK, 30, "available", False, Reason.MEDIA_LIMIT),
        (NONE, NO_VIDEO, 0, "available", False, Reason.MEDIA_LIMIT),  # category may not
        # the hold shelf: only for the patron the item waits for
        (NONE, BOOK, 0, "on_hold_shelf", False, None),
        (NONE, BOOK, 0, "on_hold_shelf", True, Reason.ITEM_ON_HOLD_FOR_OTHER),
        (NONE, BOOK, 0, "available", True, Reason.ITEM_ON_HOLD_FOR_OTHER),
        (NONE, BOOK, 0, "on_loan", False, Reason.ITEM_NOT_AVAILABLE),
        (NONE, BOOK, 0, "in_transit", False, Reason.ITEM_NOT_AVAILABLE),
        (NONE, BOOK, 0, "in_transit", True, Reason.ITEM_NOT_AVAILABLE),
        (NONE, BOOK, 0, "lost", False, Reason.ITEM_NOT_AVAILABLE),
        (NONE, BOOK, 0, "missing", False, Reason.ITEM_NOT_AVAILABLE),
        (NONE, BOOK, 0, "in_process", False, Reason.ITEM_NOT_AVAILABLE),
        (NONE, BOOK, 0, "withdrawn", False, Reason.ITEM_NOT_AVAILABLE),
        # patron reasons come first
        (frozenset({Block.TOO_MANY_LOANS}), BOOK, 0, "available", False, Reason.TOO_MANY_LOANS),
        (frozenset({Block.EXPIRED}), BOOK, 30, "lost", True, Reason.CARD_EXPIRED),
        (NONE, BOOK, 30, "on_loan", False, Reason.MEDIA_LIMIT),
        (
            frozenset({Block.FEE_LIMIT, Block.CARD_LOST}),
            BOOK,
            0,
            "available",
            False,
            Reason.CARD_LOST,
        ),
    ],
)
def test_checkout_refusal(
    blocks: frozenset[Block],
    rule: LoanRule,
    of_type: int,
    status: str,
    for_other: bool,
    expected: Reason | None,
) -> None:
    refusal = checkout_refusal(
        blocks=blocks,
        rule=rule,
        loans_of_media_type=of_type,
        item_status=status,
        hold_for_other_patron=for_other,
    )
    assert refusal == expected


def test_checkout_refuses_an_unknown_status() -> None:
    with pytest.raises(ValueError, match="unknown item status"):
        checkout_refusal(
            blocks=NONE,
            rule=BOOK,
            loans_of_media_type=0,
            item_status="borrowed",
            hold_for_other_patron=False,
        )


@pytest.mark.parametrize(
    ("blocks", "rule", "done", "holds_waiting", "expected"),
    [
        (NONE, BOOK, 0, False, None),
        (NONE, BOOK, 1, False, None),
        (NONE, BOOK, 2, False, Reason.RENEWAL_LIMIT),
        (NONE, BOOK, 3, False, Reason.RENEWAL_LIMIT),
        (NONE, LoanRule(renewals=0), 0, False, Reason.RENEWAL_LIMIT),
        (NONE, BOOK, 0, True, Reason.RENEWAL_HOLD_WAITING),
        (NONE, BOOK, 2, True, Reason.RENEWAL_LIMIT),
        # loans already out and overdue items may still be renewed
        (frozenset({Block.TOO_MANY_LOANS}), BOOK, 0, False, None),
        (frozenset({Block.TOO_MANY_OVERDUE}), BOOK, 0, False, None),
        (frozenset({Block.TOO_MANY_OVERDUE}), BOOK, 0, True, Reason.RENEWAL_HOLD_WAITING),
        (frozenset({Block.FEE_LIMIT}), BOOK, 0, False, Reason.FEE_LIMIT),
        (frozenset({Block.EXPIRED}), BOOK, 2, True, Reason.CARD_EXPIRED),
        (frozenset({Block.STAFF}), BOOK, 0, False, Reason.STAFF_BLOCK),
        (frozenset({Block.CARD_LOST}), BOOK, 0, False, Reason.CARD_LOST),
    ],
)
def test_renewal_refusal(
    blocks: frozenset[Block],
    rule: LoanRule,
    done: int,
    holds_waiting: bool,
    expected: Reason | None,
) -> None:
    refusal = renewal_refusal(
        blocks=blocks, rule=rule, renewals_done=done, holds_waiting=holds_waiting
    )
    assert refusal == expected


def end_of(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "current_due", "rule", "expected"),
    [
        # renewed on the due day: three more weeks from today
        (
            end_of(2025, 3, 26) - dt.timedelta(hours=8),
            end_of(2025, 3, 26),
            BOOK,
            end_of(2025, 4, 16),
        ),
        # renewed early: from today, still later than the old due date
        (NOW, end_of(2025, 3, 8), BOOK, end_of(2025, 3, 26)),
        # a short rule renewing a long loan early: the old, later due date stays
        (NOW, end_of(2025, 3, 26), LoanRule(loan_days=7), end_of(2025, 3, 26)),
        # overdue when renewed: from today, landing on a Sunday, moved to Monday
        (
            dt.datetime(2025, 3, 19, 9, tzinfo=UTC),
            end_of(2025, 3, 12),
            LoanRule(loan_days=4),
            end_of(2025, 3, 24),
        ),
        # a current due date given in local time is compared, and returned, in UTC
        (
            NOW,
            dt.datetime(2025, 4, 30, 23, 59, 59, tzinfo=ZoneInfo("America/Chicago")),
            BOOK,
            dt.datetime(2025, 5, 1, 4, 59, 59, tzinfo=UTC),
        ),
    ],
)
def test_renewed_due_date(
    now: dt.datetime, current_due: dt.datetime, rule: LoanRule, expected: dt.datetime
) -> None:
    due = renewed_due_date(now, current_due, rule, CALENDAR)
    assert due == expected
    assert due.tzinfo == UTC


def test_renewed_due_date_refuses_a_naive_current_due() -> None:
    with pytest.raises(ValueError, match="aware"):
        renewed_due_date(NOW, dt.datetime(2025, 3, 26, 23, 59, 59), BOOK, CALENDAR)
