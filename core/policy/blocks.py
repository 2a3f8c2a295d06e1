"""Patron blocks, the SIP2 patron-status flags they imply, and the refusals they cause."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import astuple, dataclass
from types import MappingProxyType

from core.policy.reasons import Reason
from core.policy.rules import BlockLimits


class Block(enum.StrEnum):
    """A reason the patron may not do everything a patron normally may."""

    EXPIRED = "expired"
    CARD_LOST = "card_lost"
    STAFF = "staff"
    FEE_LIMIT = "fee_limit"
    TOO_MANY_OVERDUE = "too_many_overdue"
    TOO_MANY_LOANS = "too_many_loans"


@dataclass(frozen=True)
class PatronStanding:
    """What the blocks are computed from; counts and money as the store reports them."""

    expires_on: dt.date
    card_lost: bool
    staff_blocked: bool
    loans: int
    overdue: int
    fees_outstanding: int  # minor units, every open fee
    overdue_fines_outstanding: int  # the part of fees_outstanding that is overdue fines


def _limit_reached(count: int, limit: int) -> bool:
    # A limit of 0 (or less) means "no limit": a literal 0 would block every patron.
    return limit > 0 and count >= limit


def blocks_for(standing: PatronStanding, limits: BlockLimits, today: dt.date) -> frozenset[Block]:
    """Return every block that applies today; the card is valid through `expires_on`."""
    blocks: set[Block] = set()
    if today > standing.expires_on:
        blocks.add(Block.EXPIRED)
    if standing.card_lost:
        blocks.add(Block.CARD_LOST)
    if standing.staff_blocked:
        blocks.add(Block.STAFF)
    if _limit_reached(standing.fees_outstanding, limits.max_fees):
        blocks.add(Block.FEE_LIMIT)
    if _limit_reached(standing.overdue, limits.max_overdue):
        blocks.add(Block.TOO_MANY_OVERDUE)
    if _limit_reached(standing.loans, limits.max_loans):
        blocks.add(Block.TOO_MANY_LOANS)
    return frozenset(blocks)


class _Privilege(enum.Enum):
    CHARGE = "charge"
    RENEW = "renew"
    RECALL = "recall"
    HOLD = "hold"


_ALL = frozenset(_Privilege)

# What each block denies. Kiosks act on the SIP2 flags (docs/sip2.md, "Value sets"), so the
# flags and the refusals below are both read from this one table.
#
# | block            | charge | renew | recall | hold | flag it also sets                     |
# |------------------|--------|-------|--------|------|---------------------------------------|
# | CARD_LOST        | Y      | Y     | Y      | Y    | card reported lost                    |
# | STAFF            | Y      | Y     | Y      | Y    | -                                     |
# | EXPIRED          | Y      | Y     | Y      | Y    | -                                     |
# | FEE_LIMIT        | Y      | Y     | Y      | Y    | excessive fines, or else fees         |
# | TOO_MANY_OVERDUE | Y      | -     | -      | -    | too many items overdue                |
# | TOO_MANY_LOANS   | Y      | -     | -      | -    | too many items charged                |
#
# A renewal extends a loan, so a patron who must settle fees first may not extend one either.
# A recall is a hold on an item someone else has, so whatever denies holds denies recalls.
# Returning overdue items is what lifts TOO_MANY_OVERDUE; renewing them must stay possible.
# Loans already out do not count again on renewal, so TOO_MANY_LOANS does not deny renewals.
# Flags nothing here can know stay off: too many renewals (a per-loan limit, refused per item),
# too many claims of items returned, too many items lost, recall overdue, too many items billed.
_DENIES: Mapping[Block, frozenset[_Privilege]] = MappingProxyType(
    {
        Block.CARD_LOST: _ALL,
        Block.STAFF: _ALL,
        Block.EXPIRED: _ALL,
        Block.FEE_LIMIT: _ALL,
        Block.TOO_MANY_OVERDUE: frozenset({_Privilege.CHARGE}),
        Block.TOO_MANY_LOANS: frozenset({_Privilege.CHARGE}),
    }
)

# Most important first: the one reason a refusal names when several blocks apply.
_REFUSAL_ORDER: tuple[tuple[Block, Reason], ...] = (
    (Block.CARD_LOST, Reason.CARD_LOST),
    (Block.STAFF, Reason.STAFF_BLOCK),
    (Block.EXPIRED, Reason.CARD_EXPIRED),
    (Block.FEE_LIMIT, Reason.FEE_LIMIT),
    (Block.TOO_MANY_OVERDUE, Reason.TOO_MANY_OVERDUE),
    (Block.TOO_MANY_LOANS, Reason.TOO_MANY_LOANS),
)


def _denied(blocks: frozenset[Block], privilege: _Privilege) -> bool:
    return any(privilege in _DENIES[block] for block in blocks)


def _refusal(blocks: frozenset[Block], privilege: _Privilege) -> Reason | None:
    for block, reason in _REFUSAL_ORDER:
        if block in blocks and privilege in _DENIES[block]:
            return reason
    return None


def charge_refusal(blocks: frozenset[Block]) -> Reason | None:
    """Return the most important reason the patron may not borrow, or None."""
    return _refusal(blocks, _Privilege.CHARGE)


def renewal_refusal_for_blocks(blocks: frozenset[Block]) -> Reason | None:
    """Return the most important reason the patron may not renew, or None."""
    return _refusal(blocks, _Privilege.RENEW)


def hold_refusal_for_blocks(blocks: frozenset[Block]) -> Reason | None:
    """Return the most important reason the patron may not place a hold, or None."""
    return _refusal(blocks, _Privilege.HOLD)


@dataclass(frozen=True)
class PatronStatusFlags:
    """The 14 SIP2 patron-status flags (docs/sip2.md, "Value sets"), in their wire order."""

    charge_privileges_denied: bool = False
    renewal_privileges_denied: bool = False
    recall_privileges_denied: bool = False
    hold_privileges_denied: bool = False
    card_reported_lost: bool = False
    too_many_items_charged: bool = False
    too_many_items_overdue: bool = False
    too_many_renewals: bool = False
    too_many_claims_of_items_returned: bool = False
    too_many_items_lost: bool = False
    excessive_outstanding_fines: bool = False
    excessive_outstanding_fees: bool = False
    recall_overdue: bool = False
    too_many_items_billed: bool = False

    def as_tuple(self) -> tuple[bool, ...]:
        """Return the flags in SIP2 order, for the 14-character status field."""
        return astuple(self)


def status_flags(
    blocks: frozenset[Block], standing: PatronStanding, *, limits: BlockLimits
) -> PatronStatusFlags:
    """Return the SIP2 flags that `blocks` make true, and no others (table above)."""
    fee_limit = Block.FEE_LIMIT in blocks
    # SIP2 tells fines (overdue charges) from fees (everything else). The flag names the kind
    # that is excessive: fines when overdue fines alone reach the limit, otherwise fees.
    fines_alone = _limit_reached(standing.overdue_fines_outstanding, limits.max_fees)
    return PatronStatusFlags(
        charge_privileges_denied=_denied(blocks, _Privilege.CHARGE),
        renewal_privileges_denied=_denied(blocks, _Privilege.RENEW),
        recall_privileges_denied=_denied(blocks, _Privilege.RECALL),
        hold_privileges_denied=_denied(blocks, _Privilege.HOLD),
        card_reported_lost=Block.CARD_LOST in blocks,
        too_many_items_charged=Block.TOO_MANY_LOANS in blocks,
        too_many_items_overdue=Block.TOO_MANY_OVERDUE in blocks,
        excessive_outstanding_fines=fee_limit and fines_alone,
        excessive_outstanding_fees=fee_limit and not fines_alone,
    )
