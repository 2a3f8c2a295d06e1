"""Retried SIP2 transactions: what identifies one, and its answer as kept in the store."""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from sip2.codec import (
    Checkin,
    Checkout,
    Connection,
    FeePaid,
    Hold,
    Message,
    Renew,
    TerminalSettings,
)
from sip2.handlers.session import TerminalSession

# How a kept answer is written down: plain SIP2 text, no trailer (the connection adds its own).
_KEPT: Final = TerminalSettings(encoding="utf-8", error_detection="off")
# PRIV-03: never kept; a retry carries the patron and item itself, and the title is the item's.
_LEFT_OUT: Final = ("patron_id", "item_id", "title")
_APPLIED: Final = ("ok", "payment_accepted")


def transaction_parts(session: TerminalSession, request: Message) -> tuple[str, ...] | None:
    """What identifies an applied transaction (docs/sip2.md); None for other requests."""
    login = session.login
    date = getattr(request, "transaction_date", None)
    if login is None or date is None:
        return None
    when = date.isoformat()
    if isinstance(request, Checkout):
        cancel = "cancel" if request.cancel else ""
        return (login, "11", request.patron_id, request.item_id, when, cancel)
    if isinstance(request, Checkin):
        return (login, "09", "", request.item_id, when)
    if isinstance(request, Renew):
        return (login, "29", request.patron_id, request.item_id or "", when)
    if isinstance(request, Hold):
        return (login, "15", request.patron_id, request.item_id or "", when, request.hold_mode)
    if isinstance(request, FeePaid):
        fee = f"{request.fee_identifier or ''}/{request.fee_amount}/{request.transaction_id or ''}"
        return (login, "37", request.patron_id, fee, when)
    return None


def applied(answer: Message) -> bool:
    """Whether the answer reports a change (a refusal changed nothing: it is not kept)."""
    return any(getattr(answer, name, None) is True for name in _APPLIED)


def kept_form(answer: Message) -> str:
    """The answer as the store keeps it: without patron id, item id and title."""
    names = {f.name for f in dataclasses.fields(answer)}
    blanks: dict[str, Any] = {
        name: ("" if isinstance(getattr(answer, name), str) else None)
        for name in _LEFT_OUT
        if name in names
    }
    data = Connection("acs", _KEPT).send(dataclasses.replace(answer, **blanks))
    return data.decode(_KEPT.encoding).rstrip(_KEPT.terminator)


def restored(kept: str, request: Message, title: str) -> Message:
    """The first answer again, with the patron and item of the retry and the item's title."""
    reader = Connection("sc", _KEPT)
    reader.receive_data((kept + _KEPT.terminator).encode(_KEPT.encoding))
    answer = reader.next_event()
    if not isinstance(answer, Message):
        raise ValueError("a kept SIP2 answer did not parse")
    names = {f.name for f in dataclasses.fields(answer)}
    values: dict[str, Any] = {"title": title}
    for name in ("patron_id", "item_id"):
        given = getattr(request, name, None)
        if isinstance(getattr(answer, name, None), str) and isinstance(given, str):
            values[name] = given
    return dataclasses.replace(answer, **{k: v for k, v in values.items() if k in names})
