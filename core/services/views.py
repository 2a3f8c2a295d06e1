"""Frozen views that services return; interfaces never see ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.policy.blocks import Block, PatronStatusFlags


@dataclass(frozen=True)
class ItemView:
    """An item as the desk, the kiosk or a sorter sees it; never who has it (PRIV-16)."""

    barcode: str
    title: str
    author: str
    isbn: str
    call_number: str
    media_type: str
    home_branch: str
    location: str
    status: str
    due_at: dt.datetime | None
    hold_queue_length: int
    properties: str = ""
    rfid_tag: str | None = None


@dataclass(frozen=True)
class LoanView:
    """One of a patron's current loans."""

    item_barcode: str
    title: str
    media_type: str
    checked_out_at: dt.datetime
    due_at: dt.datetime
    renewals: int
    overdue: bool


@dataclass(frozen=True)
class HoldView:
    """One of a patron's holds."""

    hold_id: int
    title: str
    item_barcode: str | None
    pickup_branch: str
    status: str
    queue_position: int
    placed_at: dt.datetime
    expires_at: dt.datetime | None
    shelf_expires_at: dt.datetime | None


@dataclass(frozen=True)
class FeeView:
    """One fee; the item's title only while the fee is open."""

    fee_id: int
    kind: str
    amount: int
    balance: int
    status: str
    created_at: dt.datetime
    title: str | None


@dataclass(frozen=True)
class PatronView:
    """A patron record with the standing that circulation decisions use."""

    patron_id: int
    barcode: str
    given_name: str
    family_name: str
    category: str
    home_branch: str
    expires_on: dt.date
    email: str | None
    phone: str | None
    is_minor: bool
    has_pin: bool
    card_lost: bool
    staff_block: str | None
    note: str | None
    loans: int
    overdue: int
    holds: int
    holds_available: int
    fees_outstanding: int
    blocks: frozenset[Block]
    flags: PatronStatusFlags


@dataclass(frozen=True)
class PatronDetail:
    """A patron with the lists a self-check or the desk shows after authentication."""

    patron: PatronView
    loans: tuple[LoanView, ...]
    holds: tuple[HoldView, ...]
    fees: tuple[FeeView, ...]


@dataclass(frozen=True)
class PinCheck:
    """The outcome of a PIN check; `patron` is None when the barcode is unknown."""

    patron: PatronView | None
    valid: bool
    locked: bool


@dataclass(frozen=True)
class CheckoutResult:
    """A successful checkout (or renewal at checkout of an item the patron already has)."""

    item: ItemView
    due_at: dt.datetime
    renewed: bool
    fee_amount: int = 0


@dataclass(frozen=True)
class CheckinResult:
    """A successful return: where the item goes next, never for whom (PRIV-16)."""

    item: ItemView
    was_on_loan: bool
    fine: int
    hold_trapped: bool
    destination_branch: str | None  # set when it must travel (in transit)
    on_hold_shelf: bool


@dataclass(frozen=True)
class RenewResult:
    """A renewed loan."""

    item: ItemView
    due_at: dt.datetime
    renewals: int


@dataclass(frozen=True)
class RenewAllResult:
    """What renew-all did per item."""

    renewed: tuple[RenewResult, ...]
    unrenewed: tuple[tuple[str, str], ...]  # (item barcode, reason code)


@dataclass(frozen=True)
class PaymentResult:
    """A payment or waiver and what is still owed."""

    applied: int
    fees_settled: tuple[int, ...]
    outstanding: int
