"""Well-formed negative answers for any request code: never leave a kiosk waiting in silence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sip2.codec import (
    CheckinResponse,
    CheckoutResponse,
    EndSessionResponse,
    FeePaidResponse,
    HoldResponse,
    ItemInformationResponse,
    ItemStatusUpdateResponse,
    LoginResponse,
    Message,
    PatronEnableResponse,
    PatronInformationResponse,
    PatronStatusResponse,
    RenewAllResponse,
    RenewResponse,
    RequestSCResend,
)
from sip2.handlers._common import denied_status

Builder = Callable[[dt.datetime | None, str, tuple[str, ...]], Message]


def _patron_status(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return PatronStatusResponse(
        patron_status=denied_status(),
        transaction_date=date,
        institution_id=inst,
        patron_id="",
        personal_name="",
        valid_patron=False,
        screen_messages=msgs,
    )


def _checkout(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return CheckoutResponse(
        ok=False,
        renewal_ok=False,
        magnetic_media=None,
        desensitize=False,
        transaction_date=date,
        institution_id=inst,
        patron_id="",
        item_id="",
        title="",
        due_date=None,
        screen_messages=msgs,
    )


def _renew(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return RenewResponse(
        ok=False,
        renewal_ok=False,
        magnetic_media=None,
        desensitize=False,
        transaction_date=date,
        institution_id=inst,
        patron_id="",
        item_id="",
        title="",
        due_date=None,
        screen_messages=msgs,
    )


def _checkin(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return CheckinResponse(
        ok=False,
        resensitize=False,
        magnetic_media=None,
        alert=False,
        transaction_date=date,
        institution_id=inst,
        item_id="",
        permanent_location="",
        screen_messages=msgs,
    )


def _patron_info(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return PatronInformationResponse(
        patron_status=denied_status(),
        transaction_date=date,
        hold_items_count=0,
        overdue_items_count=0,
        charged_items_count=0,
        fine_items_count=0,
        recall_items_count=0,
        unavailable_holds_count=0,
        institution_id=inst,
        patron_id="",
        personal_name="",
        valid_patron=False,
        screen_messages=msgs,
    )


def _item_info(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return ItemInformationResponse(
        circulation_status="01",
        security_marker="00",
        fee_type="01",
        transaction_date=date,
        item_id="",
        title="",
        screen_messages=msgs,
    )


def _fee_paid(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return FeePaidResponse(
        payment_accepted=False,
        transaction_date=date,
        institution_id=inst,
        patron_id="",
        screen_messages=msgs,
    )


def _renew_all(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return RenewAllResponse(
        ok=False,
        renewed_count=0,
        unrenewed_count=0,
        transaction_date=date,
        institution_id=inst,
        screen_messages=msgs,
    )


def _end_session(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return EndSessionResponse(
        end_session=False,
        transaction_date=date,
        institution_id=inst,
        patron_id="",
        screen_messages=msgs,
    )


def _hold(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return HoldResponse(
        ok=False,
        available=False,
        transaction_date=date,
        institution_id=inst,
        patron_id="",
        screen_messages=msgs,
    )


def _status_update(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return ItemStatusUpdateResponse(
        item_properties_ok=False,
        transaction_date=date,
        item_id="",
        screen_messages=msgs,
    )


def _enable(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return PatronEnableResponse(
        patron_status=denied_status(),
        transaction_date=date,
        institution_id=inst,
        patron_id="",
        personal_name="",
        valid_patron=False,
        screen_messages=msgs,
    )


def _login(date: dt.datetime | None, inst: str, msgs: tuple[str, ...]) -> Message:
    return LoginResponse(ok=False)


# Request code -> the negative answer of the matching response.
NEGATIVE: dict[str, Builder] = {
    "93": _login,
    "23": _patron_status,
    "01": _patron_status,
    "11": _checkout,
    "09": _checkin,
    "63": _patron_info,
    "17": _item_info,
    "37": _fee_paid,
    "29": _renew,
    "65": _renew_all,
    "35": _end_session,
    "15": _hold,
    "19": _status_update,
    "25": _enable,
}


def negative_answer(
    command: str | None, date: dt.datetime | None, institution_id: str, text: str
) -> Message:
    """The refusal matching `command`; a 96 (resend) when the code itself is unreadable."""
    builder = NEGATIVE.get(command or "")
    if builder is None:
        return RequestSCResend()
    return builder(date, institution_id, (text,))
