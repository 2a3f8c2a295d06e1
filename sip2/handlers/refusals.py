"""Well-formed negative answers for any request code: never leave a kiosk waiting in silence."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

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

_DENIED_PATRON: Mapping[str, Any] = {
    "patron_status": denied_status(),  # all privileges denied: nobody was recognised
    "patron_id": "",
    "personal_name": "",
    "valid_patron": False,
}
_CIRCULATION: Mapping[str, Any] = {
    "ok": False,
    "renewal_ok": False,
    "magnetic_media": None,
    "desensitize": False,
    "patron_id": "",
    "item_id": "",
    "title": "",
    "due_date": None,
}
_NO_COUNTS = dict.fromkeys(
    (
        "hold_items_count",
        "overdue_items_count",
        "charged_items_count",
        "fine_items_count",
        "recall_items_count",
        "unavailable_holds_count",
    ),
    0,
)

# Request code -> the response type and the values that make it a refusal. The date, the
# institution and the screen message are added to every one that has those fields.
NEGATIVE: Mapping[str, tuple[type[Message], Mapping[str, Any]]] = {
    "93": (LoginResponse, {"ok": False}),
    "23": (PatronStatusResponse, _DENIED_PATRON),
    "01": (PatronStatusResponse, _DENIED_PATRON),
    "25": (PatronEnableResponse, _DENIED_PATRON),
    "63": (PatronInformationResponse, {**_DENIED_PATRON, **_NO_COUNTS}),
    "11": (CheckoutResponse, _CIRCULATION),
    "29": (RenewResponse, _CIRCULATION),
    "09": (
        CheckinResponse,
        {
            "ok": False,
            "resensitize": False,
            "magnetic_media": None,
            "alert": False,
            "item_id": "",
            "permanent_location": "",
        },
    ),
    "17": (
        ItemInformationResponse,
        {
            "circulation_status": "01",
            "security_marker": "00",
            "fee_type": "01",
            "item_id": "",
            "title": "",
        },
    ),
    "37": (FeePaidResponse, {"payment_accepted": False, "patron_id": ""}),
    "65": (RenewAllResponse, {"ok": False, "renewed_count": 0, "unrenewed_count": 0}),
    "35": (EndSessionResponse, {"end_session": False, "patron_id": ""}),
    "15": (HoldResponse, {"ok": False, "available": False, "patron_id": ""}),
    "19": (ItemStatusUpdateResponse, {"item_properties_ok": False, "item_id": ""}),
}


def negative_answer(
    command: str | None, date: dt.datetime | None, institution_id: str, text: str
) -> Message:
    """The refusal matching `command`; a 96 (resend) when the code itself is unreadable."""
    found = NEGATIVE.get(command or "")
    if found is None:
        return RequestSCResend()
    response, values = found
    names = {f.name for f in dataclasses.fields(response)}
    common: dict[str, Any] = {
        "transaction_date": date,
        "institution_id": institution_id,
        "screen_messages": (text,),
    }
    return response(**values, **{k: v for k, v in common.items() if k in names})
