"""Every request code has a well-formed refusal of the matching response type."""

from __future__ import annotations

import datetime as dt

import pytest

from sip2.codec import SUPPORTED_MESSAGES_ORDER, Connection, RequestSCResend, TerminalSettings
from sip2.handlers.refusals import NEGATIVE, negative_answer

WHEN = dt.datetime(2026, 3, 4, 10, 0)


def test_every_request_but_status_and_resend_has_a_refusal() -> None:
    assert set(NEGATIVE) == set(SUPPORTED_MESSAGES_ORDER) - {"99", "97"}


@pytest.mark.parametrize("command", sorted(NEGATIVE))
def test_refusal_is_well_formed_and_names_nobody(command: str) -> None:
    answer = negative_answer(command, WHEN, "main", "Request not understood.")
    expected = "24" if command == "01" else f"{int(command) + 1:02d}"  # 01 is answered with 24
    assert expected == answer.COMMAND
    wire = Connection("acs", TerminalSettings()).send(answer)
    assert wire.endswith(b"\r")
    for field in ("ok", "payment_accepted", "end_session", "item_properties_ok", "valid_patron"):
        assert getattr(answer, field, False) is False
    if hasattr(answer, "personal_name"):
        assert answer.personal_name == ""


def test_unreadable_code_gets_a_resend_request() -> None:
    assert isinstance(negative_answer(None, WHEN, "main", "x"), RequestSCResend)
    assert isinstance(negative_answer("42", WHEN, "main", "x"), RequestSCResend)
