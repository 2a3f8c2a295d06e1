"""Barcode validation and the 14-digit library check digit (docs/barcodes.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.policy.barcodes import barcode_refusal, luhn_check_digit
from core.policy.reasons import Reason
from core.policy.rules import BarcodeRule


def luhn_valid(number: str) -> bool:
    # The textbook formulation, from the right: every second digit doubled.
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit * 2 > 9 else digit * 2
        total += digit
    return total % 10 == 0


@pytest.mark.parametrize(
    ("digits13", "expected"),
    [
        ("3319100010586", 4),  # the worked example in docs/barcodes.md
        ("0000000000000", 0),
        ("2000000000000", 6),  # a patron card: 2 doubled is 4, check 6
        ("9000000000000", 1),  # 9 doubled is 18, minus 9 is 9
        ("0100000000000", 9),  # even positions are not doubled
    ],
)
def test_luhn_check_digit(digits13: str, expected: int) -> None:
    assert luhn_check_digit(digits13) == expected
    assert luhn_valid(digits13 + str(expected))


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_check_digit_makes_a_valid_luhn_number(digits13: str) -> None:
    check = luhn_check_digit(digits13)
    assert 0 <= check <= 9
    assert luhn_valid(digits13 + str(check))
    assert barcode_refusal(digits13 + str(check), BarcodeRule(luhn=True)) is None


@pytest.mark.parametrize(
    "digits13",
    ["331910001058", "33191000105864", "331910001058a", "３３１９１０００１０５８６", ""],
    ids=["12-digits", "14-digits", "letter", "fullwidth", "empty"],
)
def test_luhn_check_digit_wants_13_ascii_digits(digits13: str) -> None:
    with pytest.raises(ValueError, match="13 ASCII digits"):
        luhn_check_digit(digits13)


OPAQUE = BarcodeRule()
ITEM_PATTERN = BarcodeRule(pattern=r"3\d{13}")
LUHN = BarcodeRule(luhn=True)
BOTH = BarcodeRule(pattern=r"3\d{13}", luhn=True)


@pytest.mark.parametrize(
    ("value", "rule", "valid"),
    [
        # by default a barcode is an opaque string
        ("A-1234/x", OPAQUE, True),
        ("x" * 64, OPAQUE, True),
        ("x" * 65, OPAQUE, False),
        ("", OPAQUE, False),
        ("   ", OPAQUE, False),
        ("\t", OPAQUE, False),
        (" 1234", OPAQUE, False),
        ("1234\r", OPAQUE, False),
        ("12\x0034", OPAQUE, False),
        ("12\x1b34", OPAQUE, False),
        ("12 34", OPAQUE, True),
        # a pattern must match the whole value
        ("33191000105864", ITEM_PATTERN, True),
        ("23191000105864", ITEM_PATTERN, False),
        ("33191000105864X", ITEM_PATTERN, False),
        ("X33191000105864", ITEM_PATTERN, False),
        # Luhn: 14 ASCII digits with the right check digit
        ("33191000105864", LUHN, True),
        ("33191000105865", LUHN, False),
        ("3319100010586", LUHN, False),
        ("331910001058640", LUHN, False),
        ("3319100010586X", LUHN, False),
        ("３３１９１０００１０５８６４", LUHN, False),
        ("20000000000006", LUHN, True),
        # both rules together
        ("33191000105864", BOTH, True),
        ("20000000000006", BOTH, False),
        ("33191000105860", BOTH, False),
        ("", BOTH, False),
    ],
)
def test_barcode_refusal(value: str, rule: BarcodeRule, valid: bool) -> None:
    expected = None if valid else Reason.BARCODE_INVALID
    assert barcode_refusal(value, rule) == expected
