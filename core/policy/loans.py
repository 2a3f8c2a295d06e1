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


# Offline ("no block") checkouts: the item has left with the patron, so most rules no longer
# apply, but a card that must not be used, a copy set aside for someone else and a copy taken
# out of the collection are still refused (and so reach staff).
OFFLINE_REFUSED_BLOCKS: tuple[tuple[Block, Reason], ...] = (
    (Block.CARD_LOST, Reason.CARD_LOST),
    (Block.EXPIRED, Reason.CARD_EXPIRED),
)
OFFLINE_REFUSED_STATUSES: frozenset[str] = frozenset({"withdrawn"})


def offline_checkout_refusal(
    *, blocks: frozenset[Block], item_status: str, hold_for_other_patron: bool
) -> Reason | None:
    """Why a loan a terminal made while offline is refused, or None to record it."""
    if item_status not in ITEM_STATUSES:
        raise ValueError(f"unknown item status {item_status!r}")
    for block, reason in OFFLINE_REFUSED_BLOCKS:
        if block in blocks:
            return reason
    if item_status in OFFLINE_REFUSED_STATUSES:
        return Reason.ITEM_NOT_AVAILABLE
    if hold_for_other_patron:
        return Reason.ITEM_ON_HOLD_FOR_OTHER
    return None


def effective_return_time(
    returned_at: dt.datetime | None, checked_out_at: dt.datetime, now: dt.datetime
) -> dt.datetime:
    """When a return counts as made: the time a terminal reports, kept within [loan start, now].

    A book drop whose clock was reset, or a queued offline return, must not move a return
    before the loan began or into the future.
    """
    if returned_at is None:
        return as_utc(now)
    return min(max(as_utc(returned_at), as_utc(checked_out_at)), as_utc(now))


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
