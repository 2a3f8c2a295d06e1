"""Reason codes for refused requests and the fixed sentence shown for each."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class Reason(enum.StrEnum):
    """Why a request was refused; drives SIP2 flags and screen messages, never carries PII."""

    # Lookups
    PATRON_NOT_FOUND = "patron_not_found"  # no patron with that barcode
    ITEM_NOT_FOUND = "item_not_found"  # no item with that barcode
    HOLD_NOT_FOUND = "hold_not_found"  # no such hold for this patron
    FEE_NOT_FOUND = "fee_not_found"  # no such open fee for this patron

    # Patron standing (see blocks.py)
    PATRON_BLOCKED = "patron_blocked"  # blocked, when a more precise reason must not be shown
    CARD_EXPIRED = "card_expired"  # the card's expiry date has passed
    CARD_LOST = "card_lost"  # the card was reported lost
    STAFF_BLOCK = "staff_block"  # staff blocked the account by hand
    FEE_LIMIT = "fee_limit"  # outstanding fees reached the limit
    TOO_MANY_OVERDUE = "too_many_overdue"  # overdue loans reached the limit
    TOO_MANY_LOANS = "too_many_loans"  # loans of all media types reached the limit

    # Checkout and checkin
    MEDIA_LIMIT = "media_limit"  # loans of this media type reached the category's limit
    ITEM_NOT_AVAILABLE = "item_not_available"  # on loan, in transit, lost, missing, ...
    ITEM_ON_HOLD_FOR_OTHER = "item_on_hold_for_other"  # set aside for another patron
    ITEM_NOT_ON_LOAN = "item_not_on_loan"  # checkin or renewal of an item that is not out
    NOT_BORROWER = "not_borrower"  # the item is out, but not to this patron

    # Renewal
    RENEWAL_LIMIT = "renewal_limit"  # the loan was renewed as often as the rule allows
    RENEWAL_HOLD_WAITING = "renewal_hold_waiting"  # another patron waits for the item

    # Holds
    HOLD_EXISTS = "hold_exists"  # the patron already has a hold on this title or item
    HOLD_ON_OWN_LOAN = "hold_on_own_loan"  # the patron has this title on loan already

    # Money
    PAYMENT_TOO_LARGE = "payment_too_large"  # more than the fee or balance owed
    INVALID_AMOUNT = "invalid_amount"  # zero, negative or not a whole number of minor units

    # Identification
    PIN_LOCKED = "pin_locked"  # too many failed PINs, locked for a while (PRIV-09)
    PIN_INVALID = "pin_invalid"  # wrong or missing PIN
    BARCODE_INVALID = "barcode_invalid"  # fails the configured barcode rule

    # Configuration and permissions
    PERMISSION_DENIED = "permission_denied"  # role or terminal may not do this (PRIV-05)
    UNKNOWN_CATEGORY = "unknown_category"  # patron category not in the configuration
    UNKNOWN_MEDIA_TYPE = "unknown_media_type"  # media type not in the configuration
    UNKNOWN_BRANCH = "unknown_branch"  # branch not in the configuration


# Shown to staff and on kiosks (SIP2 AF): fixed sentences, so no name, barcode, title or PIN
# can ever reach a screen message or a log through a refusal (PRIV-16).
REASON_TEXT: Mapping[Reason, str] = MappingProxyType(
    {
        Reason.PATRON_NOT_FOUND: "Library card not recognised.",
        Reason.ITEM_NOT_FOUND: "Item not recognised.",
        Reason.HOLD_NOT_FOUND: "Hold not found.",
        Reason.FEE_NOT_FOUND: "Fee not found.",
        Reason.PATRON_BLOCKED: "Account blocked, please see staff.",
        Reason.CARD_EXPIRED: "Library card has expired, please see staff.",
        Reason.CARD_LOST: "This card was reported lost, please see staff.",
        Reason.STAFF_BLOCK: "Account blocked, please see staff.",
        Reason.FEE_LIMIT: "Outstanding fees have reached the limit.",
        Reason.TOO_MANY_OVERDUE: "Too many overdue items.",
        Reason.TOO_MANY_LOANS: "Loan limit reached.",
        Reason.MEDIA_LIMIT: "Loan limit for this type of item reached.",
        Reason.ITEM_NOT_AVAILABLE: "Item is not available for loan.",
        Reason.ITEM_ON_HOLD_FOR_OTHER: "Item is reserved for another patron.",
        Reason.ITEM_NOT_ON_LOAN: "Item is not on loan.",
        Reason.NOT_BORROWER: "Item is not on loan to this card.",
        Reason.RENEWAL_LIMIT: "Item has been renewed the maximum number of times.",
        Reason.RENEWAL_HOLD_WAITING: "Item cannot be renewed: someone is waiting for it.",
        Reason.HOLD_EXISTS: "A hold for this is already in place.",
        Reason.HOLD_ON_OWN_LOAN: "This item is already on loan to this card.",
        Reason.PAYMENT_TOO_LARGE: "Payment is more than the amount owed.",
        Reason.INVALID_AMOUNT: "Amount is not valid.",
        Reason.PIN_LOCKED: "Too many wrong PINs, please try later or see staff.",
        Reason.PIN_INVALID: "PIN not accepted.",
        Reason.BARCODE_INVALID: "Barcode not valid.",
        Reason.PERMISSION_DENIED: "Not permitted.",
        Reason.UNKNOWN_CATEGORY: "Unknown patron category.",
        Reason.UNKNOWN_MEDIA_TYPE: "Unknown media type.",
        Reason.UNKNOWN_BRANCH: "Unknown branch.",
    }
)
