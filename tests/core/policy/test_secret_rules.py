"""Rules for new passwords and PINs (PRIV-09): lengths, digits only, obvious PINs refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.policy.secret_rules import PasswordRule, PinRule, WeakSecret, is_obvious_pin


@pytest.mark.parametrize(
    ("pin", "obvious"),
    [
        ("0000", True),
        ("1111", True),
        ("1234", True),
        ("0123", True),
        ("6789", True),
        ("9876", True),
        ("4321", True),
        ("abcd", True),
        ("1235", False),
        ("4821", False),
        ("1212", False),
        ("9012", False),
    ],
)
def test_obvious_pins(pin: str, obvious: bool) -> None:
    assert is_obvious_pin(pin) is obvious


@pytest.mark.parametrize(
    ("rule", "pin", "problem"),
    [
        (PinRule(), "482", "must be 4 to 64 characters long"),
        (PinRule(), "1111", "is too easy to guess"),
        (PinRule(refuse_obvious=False), "1111", None),
        (PinRule(digits_only=True), "48a1", "must be digits only"),
        (PinRule(digits_only=True), "４８２１", "must be digits only"),  # fullwidth digits
        (PinRule(), " 4821", "must not hold control characters"),
        (PinRule(), "48\t21", "must not hold control characters"),
        (PinRule(), "Starling-77", None),
        (PinRule(min_length=6, max_length=6, digits_only=True), "48213", "must be 6 to 6"),
    ],
)
def test_pin_rule(rule: PinRule, pin: str, problem: str | None) -> None:
    found = rule.problem(pin)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


@given(st.text(min_size=1, max_size=80))
def test_a_refusal_never_repeats_the_secret(secret: str) -> None:
    for check in (PinRule(digits_only=True).require, PasswordRule(12).require):
        try:
            check(secret, "secret")
        except WeakSecret as refused:
            if len(secret) >= 3:
                assert secret not in str(refused).replace("secret refused", "")


def test_labels_name_the_rule() -> None:
    assert PasswordRule(12).label == "min12"
    assert PinRule().label == "any4-64-obvious"
    assert PinRule(digits_only=True, max_length=8, refuse_obvious=False).label == "digits4-8"
    with pytest.raises(WeakSecret, match="at least 12 characters long, got 5"):
        PasswordRule(12).require("short", "password")
