"""Reason codes and their fixed screen sentences."""

from __future__ import annotations

import pytest

from core.policy.reasons import REASON_TEXT, Reason

# The codes services and SIP2 handlers are written against.
REQUIRED = [
    "PATRON_NOT_FOUND",
    "ITEM_NOT_FOUND",
    "PATRON_BLOCKED",
    "CARD_EXPIRED",
    "CARD_LOST",
    "FEE_LIMIT",
    "TOO_MANY_OVERDUE",
    "TOO_MANY_LOANS",
    "MEDIA_LIMIT",
    "ITEM_NOT_AVAILABLE",
    "ITEM_ON_HOLD_FOR_OTHER",
    "ITEM_NOT_ON_LOAN",
    "NOT_BORROWER",
    "RENEWAL_LIMIT",
    "RENEWAL_HOLD_WAITING",
    "HOLD_NOT_FOUND",
    "HOLD_EXISTS",
    "HOLD_ON_OWN_LOAN",
    "FEE_NOT_FOUND",
    "PAYMENT_TOO_LARGE",
    "INVALID_AMOUNT",
    "PIN_LOCKED",
    "PIN_INVALID",
    "BARCODE_INVALID",
    "PERMISSION_DENIED",
    "UNKNOWN_CATEGORY",
    "UNKNOWN_MEDIA_TYPE",
    "UNKNOWN_BRANCH",
    "STAFF_BLOCK",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_reason_exists_with_its_lowercase_value(name: str) -> None:
    assert Reason[name] == name.lower()


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_a_short_sentence(reason: Reason) -> None:
    text = REASON_TEXT[reason]
    assert text[0].isupper()
    assert text.endswith(".")
    assert len(text) <= 60
    # PRIV-16: a fixed sentence, nothing to fill in with a name or barcode
    assert "{" not in text
    assert "%" not in text


def test_reason_text_covers_exactly_the_reasons_and_is_read_only() -> None:
    assert set(REASON_TEXT) == set(Reason)
    with pytest.raises(TypeError):
        REASON_TEXT[Reason.PIN_INVALID] = "changed"  # type: ignore[index]
