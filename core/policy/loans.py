"""Whether an item may be checked out or renewed, and the due date a renewal gives."""

from __future__ import annotations

import datetime as dt

from core.policy.blocks import Block, charge_refusal, renewal_refusal_for_blocks
from core.policy.calendar import as_utc, due_date
from core.policy.reasons import Reason
from core.policy.rules import Calendar, LoanRule

# Circulation states of an item (the values core.model stores).
ITEM_STATUSES: frozenset[str] = frozenset(
    {
        "available",
        "on_loan",
        "on_hold_shelf",
        "in_transit",
        "lost",
        "missing",
        "in_process",
        "withdrawn",
    }
)

# An item on the hold shelf may go only to the patron it waits for (hold_for_other_patron).
CHARGEABLE_STATUSES: frozenset[str] = frozenset({"available", "on_hold_shelf"})


def checkout_refusal(
    *,
    blocks: frozenset[Block],
    rule: LoanRule,
    loans_of_media_type: int,
    item_status: str,
    hold_for_other_patron: bool,
) -> Reason | None:
    """Return why the patron may not borrow the item, or None if the checkout may go ahead.

    Patron reasons come before item reasons. A rule with `max_loans` 0 means the patron's
    category may not borrow this media type at all.
    """
    if item_status not in ITEM_STATUSES:
        raise ValueError(f"unknown item status {item_status!r}")
    blocked = charge_refusal(blocks)
    if blocked is not None:
        return blocked
    if loans_of_media_type >= rule.max_loans:
        return Reason.MEDIA_LIMIT
    if item_status not in CHARGEABLE_STATUSES:
        return Reason.ITEM_NOT_AVAILABLE
    if hold_for_other_patron:
        return Reason.ITEM_ON_HOLD_FOR_OTHER
    return None


def renewal_refusal(
    *,
    blocks: frozenset[Block],
    rule: LoanRule,
    renewals_done: int,
    holds_waiting: bool,
) -> Reason | None:
    """Return why the loan may not be renewed, or None if it may."""
    blocked = renewal_refusal_for_blocks(blocks)
    if blocked is not None:
        return blocked
    if renewals_done >= rule.renewals:
        return Reason.RENEWAL_LIMIT
    # A waiting hold that this item could fill: renewing would keep someone else waiting.
    if holds_waiting:
        return Reason.RENEWAL_HOLD_WAITING
    return None


def renewed_due_date(
    now: dt.datetime, current_due: dt.datetime, rule: LoanRule, calendar: Calendar
) -> dt.datetime:
    """Return the due date after a renewal now: a full loan period, never earlier than before."""
    return max(due_date(now, rule.loan_days, calendar), as_utc(current_due))
