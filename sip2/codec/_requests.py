"""SIP2 requests (sent by the self-check side, read by the ACS), one frozen dataclass each.

Password and PIN fields stay out of repr, and so do patron identifiers (PRIV-09, PRIV-16:
logs never hold PINs, passwords or patron barcodes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from ._fields import (
    DATE,
    FLAG,
    SUMMARY,
    VAR_DATE,
    YES_NO,
    Message,
    fixed,
    fixed_number,
    fixed_text,
    number,
    var,
)
from ._flags import Summary


@dataclass(frozen=True, kw_only=True)
class Login(Message):
    """93: the terminal signs in with its own SIP2 account."""

    COMMAND: ClassVar[str] = "93"
    uid_algorithm: str = field(default="0", metadata=fixed(fixed_text(1)))  # "0" = plain
    pwd_algorithm: str = field(default="0", metadata=fixed(fixed_text(1)))
    login_user_id: str = field(metadata=var("CN"))
    login_password: str = field(repr=False, metadata=var("CO"))
    location_code: str | None = field(default=None, metadata=var("CP"))


@dataclass(frozen=True, kw_only=True)
class SCStatus(Message):
    """99: the terminal reports its state and asks for the ACS status (also a heartbeat)."""

    COMMAND: ClassVar[str] = "99"
    status_code: str = field(default="0", metadata=fixed(fixed_text(1)))  # 0 ok, 1 paper, 2 off
    max_print_width: int = field(metadata=fixed(fixed_number(3)))
    protocol_version: str = field(default="2.00", metadata=fixed(fixed_text(4)))


@dataclass(frozen=True, kw_only=True)
class PatronStatusRequest(Message):
    """23: the terminal asks for a patron's status."""

    COMMAND: ClassVar[str] = "23"
    language: str = field(default="000", metadata=fixed(fixed_text(3)))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    terminal_password: str = field(repr=False, metadata=var("AC"))
    patron_password: str = field(repr=False, metadata=var("AD"))


@dataclass(frozen=True, kw_only=True)
class Checkout(Message):
    """11: lend an item to a patron."""

    COMMAND: ClassVar[str] = "11"
    sc_renewal_policy: bool = field(metadata=fixed(YES_NO))
    no_block: bool = field(metadata=fixed(YES_NO))  # done offline, must not be refused
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    nb_due_date: datetime | None = field(default=None, metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    item_id: str = field(metadata=var("AB"))
    terminal_password: str = field(repr=False, metadata=var("AC"))
    item_properties: str | None = field(default=None, metadata=var("CH"))
    patron_password: str | None = field(default=None, repr=False, metadata=var("AD"))
    fee_acknowledged: bool | None = field(default=None, metadata=var("BO", FLAG))
    cancel: bool | None = field(default=None, metadata=var("BI", FLAG))


@dataclass(frozen=True, kw_only=True)
class Checkin(Message):
    """09: return an item."""

    COMMAND: ClassVar[str] = "09"
    no_block: bool = field(metadata=fixed(YES_NO))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    return_date: datetime | None = field(metadata=fixed(DATE))
    current_location: str = field(metadata=var("AP"))
    institution_id: str = field(metadata=var("AO"))
    item_id: str = field(metadata=var("AB"))
    terminal_password: str = field(repr=False, metadata=var("AC"))
    item_properties: str | None = field(default=None, metadata=var("CH"))
    cancel: bool | None = field(default=None, metadata=var("BI", FLAG))


@dataclass(frozen=True, kw_only=True)
class PatronInformation(Message):
    """63: the terminal asks for a patron's details and, optionally, one item list."""

    COMMAND: ClassVar[str] = "63"
    language: str = field(default="000", metadata=fixed(fixed_text(3)))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    summary: Summary = field(default=Summary(), metadata=fixed(SUMMARY))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))
    patron_password: str | None = field(default=None, repr=False, metadata=var("AD"))
    start_item: int | None = field(default=None, metadata=var("BP", number()))  # 1-based
    end_item: int | None = field(default=None, metadata=var("BQ", number()))


@dataclass(frozen=True, kw_only=True)
class ItemInformation(Message):
    """17: the terminal asks about an item."""

    COMMAND: ClassVar[str] = "17"
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    item_id: str = field(metadata=var("AB"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))


@dataclass(frozen=True, kw_only=True)
class FeePaid(Message):
    """37: a fee was paid at the terminal."""

    COMMAND: ClassVar[str] = "37"
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    fee_type: str = field(metadata=fixed(fixed_text(2)))
    payment_type: str = field(metadata=fixed(fixed_text(2)))  # 00 cash, 01 VISA, 02 credit card
    currency_type: str = field(metadata=fixed(fixed_text(3)))
    fee_amount: str = field(metadata=var("BV"))  # kept as sent, e.g. "2.50"
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))
    patron_password: str | None = field(default=None, repr=False, metadata=var("AD"))
    fee_identifier: str | None = field(default=None, metadata=var("CG"))
    transaction_id: str | None = field(default=None, metadata=var("BK"))


@dataclass(frozen=True, kw_only=True)
class Renew(Message):
    """29: renew one item."""

    COMMAND: ClassVar[str] = "29"
    third_party_allowed: bool = field(metadata=fixed(YES_NO))
    no_block: bool = field(metadata=fixed(YES_NO))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    nb_due_date: datetime | None = field(default=None, metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    patron_password: str | None = field(default=None, repr=False, metadata=var("AD"))
    item_id: str | None = field(default=None, metadata=var("AB"))
    title: str | None = field(default=None, metadata=var("AJ"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))
    item_properties: str | None = field(default=None, metadata=var("CH"))
    fee_acknowledged: bool | None = field(default=None, metadata=var("BO", FLAG))


@dataclass(frozen=True, kw_only=True)
class RenewAll(Message):
    """65: renew everything the patron has."""

    COMMAND: ClassVar[str] = "65"
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    patron_password: str | None = field(default=None, repr=False, metadata=var("AD"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))
    fee_acknowledged: bool | None = field(default=None, metadata=var("BO", FLAG))


@dataclass(frozen=True, kw_only=True)
class EndPatronSession(Message):
    """35: the patron is done at the terminal."""

    COMMAND: ClassVar[str] = "35"
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))
    patron_password: str | None = field(default=None, repr=False, metadata=var("AD"))


@dataclass(frozen=True, kw_only=True)
class BlockPatron(Message):
    """01: the terminal asks to block a patron's card (answered with 24)."""

    COMMAND: ClassVar[str] = "01"
    card_retained: bool = field(metadata=fixed(YES_NO))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    blocked_card_message: str = field(metadata=var("AL"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    terminal_password: str = field(repr=False, metadata=var("AC"))


@dataclass(frozen=True, kw_only=True)
class Hold(Message):
    """15: add ("+"), delete ("-") or change ("*") a hold."""

    COMMAND: ClassVar[str] = "15"
    hold_mode: str = field(metadata=fixed(fixed_text(1)))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    expiration_date: datetime | None = field(default=None, metadata=var("BW", VAR_DATE))
    pickup_location: str | None = field(default=None, metadata=var("BS"))
    hold_type: str | None = field(default=None, metadata=var("BY"))  # 1-4, docs/sip2.md
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    patron_password: str | None = field(default=None, repr=False, metadata=var("AD"))
    item_id: str | None = field(default=None, metadata=var("AB"))
    title: str | None = field(default=None, metadata=var("AJ"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))
    fee_acknowledged: bool | None = field(default=None, metadata=var("BO", FLAG))


@dataclass(frozen=True, kw_only=True)
class ItemStatusUpdate(Message):
    """19: set an item's properties field."""

    COMMAND: ClassVar[str] = "19"
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    item_id: str = field(metadata=var("AB"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))
    item_properties: str = field(metadata=var("CH"))


@dataclass(frozen=True, kw_only=True)
class PatronEnable(Message):
    """25: re-enable a blocked patron."""

    COMMAND: ClassVar[str] = "25"
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    terminal_password: str | None = field(default=None, repr=False, metadata=var("AC"))
    patron_password: str | None = field(default=None, repr=False, metadata=var("AD"))


@dataclass(frozen=True, kw_only=True)
class RequestACSResend(Message):
    """97: the terminal asks the ACS to send its last response again."""

    COMMAND: ClassVar[str] = "97"


Request = (
    Login
    | SCStatus
    | PatronStatusRequest
    | Checkout
    | Checkin
    | PatronInformation
    | ItemInformation
    | FeePaid
    | Renew
    | RenewAll
    | EndPatronSession
    | BlockPatron
    | Hold
    | ItemStatusUpdate
    | PatronEnable
    | RequestACSResend
)

REQUEST_TYPES: tuple[type[Message], ...] = (
    Login,
    SCStatus,
    PatronStatusRequest,
    Checkout,
    Checkin,
    PatronInformation,
    ItemInformation,
    FeePaid,
    Renew,
    RenewAll,
    EndPatronSession,
    BlockPatron,
    Hold,
    ItemStatusUpdate,
    PatronEnable,
    RequestACSResend,
)
