"""ISBN-10 and ISBN-13 check digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.policy.isbn import compact_isbn, isbn_problem


@pytest.mark.parametrize(
    ("given_value", "problem"),
    [
        ("0-261-10221-4", None),
        ("0306406152", None),
        ("080442957X", None),
        ("080442957x", None),
        ("978-0-261-10221-7", None),
        ("9790260000438", None),  # 979-0: printed music
        ("0261102215", "has a wrong ISBN-10 check digit"),
        ("9780261102218", "has a wrong ISBN-13 check digit"),
        ("9770261102217", "is not an ISBN-13 (it must start with 978 or 979)"),
        ("02611022X4", "is not an ISBN-10 (nine digits and a digit or X)"),
        ("٠٢٦١١٠٢٢١٤", "is not an ISBN-10 (nine digits and a digit or X)"),
        ("12345", "must have 10 or 13 digits"),
        ("0140328726 (pbk.)", None),
    ],
)
def test_isbn_check_digits(given_value: str, problem: str | None) -> None:
    assert isbn_problem(compact_isbn(given_value)) == problem


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_exactly_one_isbn13_check_digit_fits(body: str) -> None:
    fitting = [d for d in "0123456789" if isbn_problem("978" + body[3:] + d) is None]
    assert len(fitting) == 1


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_isbn10_check_sign_fits(body: str) -> None:
    fitting = [c for c in "0123456789X" if isbn_problem(body + c) is None]
    assert len(fitting) == 1
