"""Patron blocks, the 14 SIP2 patron-status flags, and refusals caused by blocks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import Any

import pytest

from core.policy.blocks import (
    Block,
    PatronStanding,
    PatronStatusFlags,
    blocks_for,
    charge_refusal,
    hold_refusal_for_blocks,
    renewal_refusal_for_blocks,
    status_flags,
)
from core.policy.reasons import Reason
from core.policy.rules import BlockLimits

TODAY = dt.date(2025, 3, 5)
LIMITS = BlockLimits()  # 50 loans, 10 overdue, 1000 minor units
CLEAN = PatronStanding(
    expires_on=dt.date(2026, 1, 1),
    card_lost=False,
    staff_blocked=False,
    loans=3,
    overdue=0,
    fees_outstanding=0,
    overdue_fines_outstanding=0,
)


def standing(**changes: Any) -> PatronStanding:
    return dataclasses.replace(CLEAN, **changes)


@pytest.mark.parametrize(
    ("patron", "limits", "expected"),
    [
        (CLEAN, LIMITS, set()),
        (standing(expires_on=TODAY), LIMITS, set()),  # valid through its expiry date
        (standing(expires_on=TODAY - dt.timedelta(days=1)), LIMITS, {Block.EXPIRED}),
        (standing(card_lost=True), LIMITS, {Block.CARD_LOST}),
        (standing(staff_blocked=True), LIMITS, {Block.STAFF}),
        (standing(fees_outstanding=999), LIMITS, set()),
        (standing(fees_outstanding=1000), LIMITS, {Block.FEE_LIMIT}),
        (standing(fees_outstanding=10**6), BlockLimits(max_fees=0), set()),  # 0: no fee limit
        (standing(overdue=9), LIMITS, set()),
        (standing(overdue=10), LIMITS, {Block.TOO_MANY_OVERDUE}),
        (standing(overdue=100), BlockLimits(max_overdue=0), set()),  # 0: no limit
        (standing(loans=49), LIMITS, set()),
        (standing(loans=50), LIMITS, {Block.TOO_MANY_LOANS}),
        (standing(loans=500), BlockLimits(max_loans=0), set()),  # 0: no limit
        (
            standing(
                expires_on=dt.date(2020, 1, 1),
                card_lost=True,
                staff_blocked=True,
                loans=60,
                overdue=12,
                fees_outstanding=5000,
            ),
            LIMITS,
            set(Block),
        ),
    ],
)
def test_blocks_for(patron: PatronStanding, limits: BlockLimits, expected: set[Block]) -> None:
    assert blocks_for(patron, limits, TODAY) == frozenset(expected)


def flag_string(flags: PatronStatusFlags) -> str:
    # "Y" for set, "-" for clear (SIP2 sends a space), in SIP2 order
    return "".join("Y" if flag else "-" for flag in flags.as_tuple())


FINES = standing(fees_outstanding=1200, overdue_fines_outstanding=1000)
FEES = standing(fees_outstanding=1200, overdue_fines_outstanding=900)


# Positions: charge, renewal, recall, hold, card lost, too many charged, too many overdue,
# too many renewals, claims returned, items lost, excessive fines, excessive fees,
# recall overdue, items billed.
@pytest.mark.parametrize(
    ("blocks", "patron", "expected"),
    [
        (set(), CLEAN, "--------------"),
        ({Block.CARD_LOST}, CLEAN, "YYYYY---------"),
        ({Block.STAFF}, CLEAN, "YYYY----------"),
        ({Block.EXPIRED}, CLEAN, "YYYY----------"),
        # fines alone reach the limit: excessive fines
        ({Block.FEE_LIMIT}, FINES, "YYYY------Y---"),
        # fines alone do not: excessive fees
        ({Block.FEE_LIMIT}, FEES, "YYYY-------Y--"),
        ({Block.FEE_LIMIT}, standing(fees_outstanding=1000), "YYYY-------Y--"),
        ({Block.TOO_MANY_OVERDUE}, CLEAN, "Y-----Y-------"),
        ({Block.TOO_MANY_LOANS}, CLEAN, "Y----Y--------"),
        ({Block.TOO_MANY_LOANS, Block.TOO_MANY_OVERDUE}, CLEAN, "Y----YY-------"),
        # fines at the limit without the block (a caller's stale blocks): no money flag
        (set(), FINES, "--------------"),
        (set(Block), FINES, "YYYYYYY---Y---"),
        (set(Block), FEES, "YYYYYYY----Y--"),
    ],
)
def test_status_flags(blocks: set[Block], patron: PatronStanding, expected: str) -> None:
    assert flag_string(status_flags(frozenset(blocks), patron, limits=LIMITS)) == expected


@pytest.mark.parametrize(
    ("name", "position"),
    [(field.name, index) for index, field in enumerate(dataclasses.fields(PatronStatusFlags))],
)
def test_each_flag_has_its_sip2_position(name: str, position: int) -> None:
    flags = PatronStatusFlags(**{name: True})
    assert flags.as_tuple() == tuple(index == position for index in range(14))


def test_flags_are_the_fourteen_sip2_flags_in_order() -> None:
    assert [field.name for field in dataclasses.fields(PatronStatusFlags)] == [
        "charge_privileges_denied",
        "renewal_privileges_denied",
        "recall_privileges_denied",
        "hold_privileges_denied",
        "card_reported_lost",
        "too_many_items_charged",
        "too_many_items_overdue",
        "too_many_renewals",
        "too_many_claims_of_items_returned",
        "too_many_items_lost",
        "excessive_outstanding_fines",
        "excessive_outstanding_fees",
        "recall_overdue",
        "too_many_items_billed",
    ]


ALL_COMBINATIONS = [
    frozenset(combination)
    for size in range(len(Block) + 1)
    for combination in itertools.combinations(Block, size)
]


@pytest.mark.parametrize("blocks", ALL_COMBINATIONS, ids=lambda b: "+".join(sorted(b)) or "none")
@pytest.mark.parametrize("patron", [FINES, FEES], ids=["fines", "fees"])
def test_flags_agree_with_refusals_and_never_claim_the_unknown(
    blocks: frozenset[Block], patron: PatronStanding
) -> None:
    flags = status_flags(blocks, patron, limits=LIMITS)
    assert flags.charge_privileges_denied is (charge_refusal(blocks) is not None)
    assert flags.renewal_privileges_denied is (renewal_refusal_for_blocks(blocks) is not None)
    assert flags.hold_privileges_denied is (hold_refusal_for_blocks(blocks) is not None)
    assert flags.recall_privileges_denied is flags.hold_privileges_denied
    assert flags.charge_privileges_denied is bool(blocks)
    # one money flag exactly when the fee limit applies
    fee_limit = Block.FEE_LIMIT in blocks
    assert (flags.excessive_outstanding_fines + flags.excessive_outstanding_fees) == fee_limit
    # what this system cannot know stays off
    assert not flags.too_many_renewals
    assert not flags.too_many_claims_of_items_returned
    assert not flags.too_many_items_lost
    assert not flags.recall_overdue
    assert not flags.too_many_items_billed


@pytest.mark.parametrize(
    ("blocks", "charge", "renewal", "hold"),
    [
        (set(), None, None, None),
        ({Block.EXPIRED}, Reason.CARD_EXPIRED, Reason.CARD_EXPIRED, Reason.CARD_EXPIRED),
        ({Block.STAFF}, Reason.STAFF_BLOCK, Reason.STAFF_BLOCK, Reason.STAFF_BLOCK),
        ({Block.FEE_LIMIT}, Reason.FEE_LIMIT, Reason.FEE_LIMIT, Reason.FEE_LIMIT),
        ({Block.TOO_MANY_OVERDUE}, Reason.TOO_MANY_OVERDUE, None, None),
        ({Block.TOO_MANY_LOANS}, Reason.TOO_MANY_LOANS, None, None),
        # the most important reason first
        ({Block.FEE_LIMIT, Block.CARD_LOST}, Reason.CARD_LOST, Reason.CARD_LOST, Reason.CARD_LOST),
        ({Block.EXPIRED, Block.STAFF}, Reason.STAFF_BLOCK, Reason.STAFF_BLOCK, Reason.STAFF_BLOCK),
        (
            {Block.FEE_LIMIT, Block.EXPIRED},
            Reason.CARD_EXPIRED,
            Reason.CARD_EXPIRED,
            Reason.CARD_EXPIRED,
        ),
        ({Block.TOO_MANY_LOANS, Block.TOO_MANY_OVERDUE}, Reason.TOO_MANY_OVERDUE, None, None),
        (
            {Block.TOO_MANY_OVERDUE, Block.FEE_LIMIT},
            Reason.FEE_LIMIT,
            Reason.FEE_LIMIT,
            Reason.FEE_LIMIT,
        ),
        (set(Block), Reason.CARD_LOST, Reason.CARD_LOST, Reason.CARD_LOST),
    ],
)
def test_refusals_for_blocks(
    blocks: set[Block], charge: Reason | None, renewal: Reason | None, hold: Reason | None
) -> None:
    frozen = frozenset(blocks)
    assert charge_refusal(frozen) == charge
    assert renewal_refusal_for_blocks(frozen) == renewal
    assert hold_refusal_for_blocks(frozen) == hold


def test_standing_to_flags_end_to_end() -> None:
    patron = standing(loans=50, overdue=10, fees_outstanding=1500, overdue_fines_outstanding=1500)
    blocks = blocks_for(patron, LIMITS, TODAY)
    assert flag_string(status_flags(blocks, patron, limits=LIMITS)) == "YYYY-YY---Y---"
    assert charge_refusal(blocks) == Reason.FEE_LIMIT
