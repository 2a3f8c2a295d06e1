"""SIP2 responses (sent by the ACS, read by the self-check side), one frozen dataclass each.

Patron identifiers, names and contact data stay out of repr (PRIV-16: logs never hold them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from ._fields import (
    DATE,
    DUE_DATE,
    FLAG,
    ONE_ZERO,
    PATRON_STATUS,
    SUPPORTED_MESSAGES,
    VAR_DATE,
    YES_NO,
    YES_NO_UNKNOWN,
    Message,
    fixed,
    fixed_number,
    fixed_text,
    number,
    repeated,
    var,
)
from ._flags import PatronStatus


@dataclass(frozen=True, kw_only=True)
class LoginResponse(Message):
    """94: whether the terminal's login was accepted."""

    COMMAND: ClassVar[str] = "94"
    ok: bool = field(metadata=fixed(ONE_ZERO))


@dataclass(frozen=True, kw_only=True)
class ACSStatus(Message):
    """98: what the ACS supports; ``supported_messages`` is the set of command codes (BX)."""

    COMMAND: ClassVar[str] = "98"
    online_status: bool = field(metadata=fixed(YES_NO))
    checkin_ok: bool = field(metadata=fixed(YES_NO))
    checkout_ok: bool = field(metadata=fixed(YES_NO))
    acs_renewal_policy: bool = field(metadata=fixed(YES_NO))
    status_update_ok: bool = field(metadata=fixed(YES_NO))
    offline_ok: bool = field(metadata=fixed(YES_NO))
    timeout_period: int = field(metadata=fixed(fixed_number(3)))  # tenths of s; 999 unknown
    retries_allowed: int = field(metadata=fixed(fixed_number(3)))  # 999 unknown
    date_time_sync: datetime | None = field(metadata=fixed(DATE))
    protocol_version: str = field(default="2.00", metadata=fixed(fixed_text(4)))
    institution_id: str = field(metadata=var("AO"))
    library_name: str = field(metadata=var("AM"))
    supported_messages: frozenset[str] = field(metadata=var("BX", SUPPORTED_MESSAGES))
    terminal_location: str | None = field(default=None, metadata=var("AN"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class PatronStatusResponse(Message):
    """24: a patron's status (answers 23 and 01)."""

    COMMAND: ClassVar[str] = "24"
    patron_status: PatronStatus = field(metadata=fixed(PATRON_STATUS))
    language: str = field(default="000", metadata=fixed(fixed_text(3)))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    personal_name: str = field(repr=False, metadata=var("AE"))
    valid_patron: bool | None = field(default=None, metadata=var("BL", FLAG))
    valid_patron_password: bool | None = field(default=None, metadata=var("CQ", FLAG))
    currency_type: str | None = field(default=None, metadata=var("BH"))
    fee_amount: str | None = field(default=None, metadata=var("BV"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class _CirculationResponse(Message):
    """The shared layout of 12 (checkout) and 30 (renew)."""

    ok: bool = field(metadata=fixed(ONE_ZERO))
    renewal_ok: bool = field(metadata=fixed(YES_NO))
    magnetic_media: bool | None = field(metadata=fixed(YES_NO_UNKNOWN))
    desensitize: bool | None = field(metadata=fixed(YES_NO_UNKNOWN))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    item_id: str = field(metadata=var("AB"))
    title: str = field(metadata=var("AJ"))
    due_date: datetime | None = field(metadata=var("AH", DUE_DATE))  # None is written "AH|"
    fee_type: str | None = field(default=None, metadata=var("BT"))
    security_inhibit: bool | None = field(default=None, metadata=var("CI", FLAG))
    currency_type: str | None = field(default=None, metadata=var("BH"))
    fee_amount: str | None = field(default=None, metadata=var("BV"))
    media_type: str | None = field(default=None, metadata=var("CK"))
    item_properties: str | None = field(default=None, metadata=var("CH"))
    transaction_id: str | None = field(default=None, metadata=var("BK"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class CheckoutResponse(_CirculationResponse):
    """12: the outcome of a checkout; the kiosk unlocks the item only if ok and desensitize."""

    COMMAND: ClassVar[str] = "12"


@dataclass(frozen=True, kw_only=True)
class RenewResponse(_CirculationResponse):
    """30: the outcome of a renewal (same fields as 12)."""

    COMMAND: ClassVar[str] = "30"


@dataclass(frozen=True, kw_only=True)
class CheckinResponse(Message):
    """10: the outcome of a checkin; ``sort_bin`` (CL) drives sorters.

    ``patron_id`` (AA) exists for reading other systems; this project never sends it
    (PRIV-16: no previous borrower at the book drop).
    """

    COMMAND: ClassVar[str] = "10"
    ok: bool = field(metadata=fixed(ONE_ZERO))
    resensitize: bool = field(metadata=fixed(YES_NO))
    magnetic_media: bool | None = field(metadata=fixed(YES_NO_UNKNOWN))
    alert: bool = field(metadata=fixed(YES_NO))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    item_id: str = field(metadata=var("AB"))
    permanent_location: str = field(metadata=var("AQ"))
    title: str | None = field(default=None, metadata=var("AJ"))
    sort_bin: str | None = field(default=None, metadata=var("CL"))
    patron_id: str | None = field(default=None, repr=False, metadata=var("AA"))
    media_type: str | None = field(default=None, metadata=var("CK"))
    item_properties: str | None = field(default=None, metadata=var("CH"))
    alert_type: str | None = field(default=None, metadata=var("CV"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class PatronInformationResponse(Message):
    """64: a patron's details, counts and at most one requested item list."""

    COMMAND: ClassVar[str] = "64"
    patron_status: PatronStatus = field(metadata=fixed(PATRON_STATUS))
    language: str = field(default="000", metadata=fixed(fixed_text(3)))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    hold_items_count: int = field(metadata=fixed(fixed_number(4)))
    overdue_items_count: int = field(metadata=fixed(fixed_number(4)))
    charged_items_count: int = field(metadata=fixed(fixed_number(4)))
    fine_items_count: int = field(metadata=fixed(fixed_number(4)))
    recall_items_count: int = field(metadata=fixed(fixed_number(4)))
    unavailable_holds_count: int = field(metadata=fixed(fixed_number(4)))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    personal_name: str = field(repr=False, metadata=var("AE"))
    hold_items_limit: int | None = field(default=None, metadata=var("BZ", number(4)))
    overdue_items_limit: int | None = field(default=None, metadata=var("CA", number(4)))
    charged_items_limit: int | None = field(default=None, metadata=var("CB", number(4)))
    valid_patron: bool | None = field(default=None, metadata=var("BL", FLAG))
    valid_patron_password: bool | None = field(default=None, metadata=var("CQ", FLAG))
    currency_type: str | None = field(default=None, metadata=var("BH"))
    fee_amount: str | None = field(default=None, metadata=var("BV"))
    fee_limit: str | None = field(default=None, metadata=var("CC"))
    hold_items: tuple[str, ...] = field(default=(), metadata=repeated("AS"))
    overdue_items: tuple[str, ...] = field(default=(), metadata=repeated("AT"))
    charged_items: tuple[str, ...] = field(default=(), metadata=repeated("AU"))
    fine_items: tuple[str, ...] = field(default=(), metadata=repeated("AV"))
    recall_items: tuple[str, ...] = field(default=(), metadata=repeated("BU"))
    unavailable_hold_items: tuple[str, ...] = field(default=(), metadata=repeated("CD"))
    home_address: str | None = field(default=None, repr=False, metadata=var("BD"))
    email_address: str | None = field(default=None, repr=False, metadata=var("BE"))
    home_phone_number: str | None = field(default=None, repr=False, metadata=var("BF"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class ItemInformationResponse(Message):
    """18: what is known about an item (never who has it, PRIV-16)."""

    COMMAND: ClassVar[str] = "18"
    circulation_status: str = field(metadata=fixed(fixed_text(2)))  # 01-13, docs/sip2.md
    security_marker: str = field(metadata=fixed(fixed_text(2)))
    fee_type: str = field(metadata=fixed(fixed_text(2)))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    hold_queue_length: int | None = field(default=None, metadata=var("CF", number()))
    due_date: datetime | None = field(default=None, metadata=var("AH", DUE_DATE))
    recall_date: datetime | None = field(default=None, metadata=var("CJ", VAR_DATE))
    hold_pickup_date: datetime | None = field(default=None, metadata=var("CM", VAR_DATE))
    item_id: str = field(metadata=var("AB"))
    title: str = field(metadata=var("AJ"))
    owner: str | None = field(default=None, metadata=var("BG"))
    currency_type: str | None = field(default=None, metadata=var("BH"))
    fee_amount: str | None = field(default=None, metadata=var("BV"))
    media_type: str | None = field(default=None, metadata=var("CK"))
    permanent_location: str | None = field(default=None, metadata=var("AQ"))
    current_location: str | None = field(default=None, metadata=var("AP"))
    item_properties: str | None = field(default=None, metadata=var("CH"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class FeePaidResponse(Message):
    """38: whether a payment was accepted."""

    COMMAND: ClassVar[str] = "38"
    payment_accepted: bool = field(metadata=fixed(YES_NO))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    transaction_id: str | None = field(default=None, metadata=var("BK"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class RenewAllResponse(Message):
    """66: the outcome of renew all, with the renewed and unrenewed item ids."""

    COMMAND: ClassVar[str] = "66"
    ok: bool = field(metadata=fixed(ONE_ZERO))
    renewed_count: int = field(metadata=fixed(fixed_number(4)))
    unrenewed_count: int = field(metadata=fixed(fixed_number(4)))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    renewed_items: tuple[str, ...] = field(default=(), metadata=repeated("BM"))
    unrenewed_items: tuple[str, ...] = field(default=(), metadata=repeated("BN"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class EndSessionResponse(Message):
    """36: the patron session at the terminal is over."""

    COMMAND: ClassVar[str] = "36"
    end_session: bool = field(metadata=fixed(YES_NO))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class HoldResponse(Message):
    """16: the outcome of a hold request."""

    COMMAND: ClassVar[str] = "16"
    ok: bool = field(metadata=fixed(ONE_ZERO))
    available: bool = field(metadata=fixed(YES_NO))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    expiration_date: datetime | None = field(default=None, metadata=var("BW", VAR_DATE))
    queue_position: int | None = field(default=None, metadata=var("BR", number()))
    pickup_location: str | None = field(default=None, metadata=var("BS"))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    item_id: str | None = field(default=None, metadata=var("AB"))
    title: str | None = field(default=None, metadata=var("AJ"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class ItemStatusUpdateResponse(Message):
    """20: whether the item properties were stored."""

    COMMAND: ClassVar[str] = "20"
    item_properties_ok: bool = field(metadata=fixed(ONE_ZERO))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    item_id: str = field(metadata=var("AB"))
    title: str | None = field(default=None, metadata=var("AJ"))
    item_properties: str | None = field(default=None, metadata=var("CH"))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class PatronEnableResponse(Message):
    """26: a patron's status after enabling."""

    COMMAND: ClassVar[str] = "26"
    patron_status: PatronStatus = field(metadata=fixed(PATRON_STATUS))
    language: str = field(default="000", metadata=fixed(fixed_text(3)))
    transaction_date: datetime | None = field(metadata=fixed(DATE))
    institution_id: str = field(metadata=var("AO"))
    patron_id: str = field(repr=False, metadata=var("AA"))
    personal_name: str = field(repr=False, metadata=var("AE"))
    valid_patron: bool | None = field(default=None, metadata=var("BL", FLAG))
    valid_patron_password: bool | None = field(default=None, metadata=var("CQ", FLAG))
    screen_messages: tuple[str, ...] = field(default=(), metadata=repeated("AF"))
    print_lines: tuple[str, ...] = field(default=(), metadata=repeated("AG"))


@dataclass(frozen=True, kw_only=True)
class RequestSCResend(Message):
    """96: the ACS asks the terminal to send its last request again (it arrived damaged)."""

    COMMAND: ClassVar[str] = "96"


Response = (
    LoginResponse
    | ACSStatus
    | PatronStatusResponse
    | CheckoutResponse
    | CheckinResponse
    | PatronInformationResponse
    | ItemInformationResponse
    | FeePaidResponse
    | RenewResponse
    | RenewAllResponse
    | EndSessionResponse
    | HoldResponse
    | ItemStatusUpdateResponse
    | PatronEnableResponse
    | RequestSCResend
)

RESPONSE_TYPES: tuple[type[Message], ...] = (
    LoginResponse,
    ACSStatus,
    PatronStatusResponse,
    CheckoutResponse,
    CheckinResponse,
    PatronInformationResponse,
    ItemInformationResponse,
    FeePaidResponse,
    RenewResponse,
    RenewAllResponse,
    EndSessionResponse,
    HoldResponse,
    ItemStatusUpdateResponse,
    PatronEnableResponse,
    RequestSCResend,
)
