"""Circulation messages: checkout 11, checkin 09, renew 29, renew all 65, hold 15, fee paid 37."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TypeVar
from zoneinfo import ZoneInfo

from core.errors import DomainError
from core.policy.reasons import Reason
from core.services import circulation, fees, holds, items
from core.services.views import ItemView
from core.store.uow import Transactions
from sip2.codec import (
    Checkin,
    CheckinResponse,
    Checkout,
    CheckoutResponse,
    FeePaid,
    FeePaidResponse,
    Hold,
    HoldResponse,
    Renew,
    RenewAll,
    RenewAllResponse,
    RenewResponse,
)
from sip2.handlers._common import (
    ALERT_HOLD_ELSEWHERE,
    ALERT_HOLD_HERE,
    ALERT_TRANSIT,
    MAGNETIC_MEDIA,
    MEDIA_CODES,
    PAYMENT_TYPES,
    PIN_INVALID,
    HandlerContext,
    parse_money,
    reason_text,
)
from sip2.handlers.patron import pin_state
from sip2.handlers.session import TerminalSession

CircResponse = TypeVar("CircResponse", CheckoutResponse, RenewResponse)


def _aware(ctx: HandlerContext, local: dt.datetime | None) -> dt.datetime | None:
    """A SIP2 date as aware UTC: naive ones are library-local, aware ones are kept."""
    if local is None:
        return None
    if local.tzinfo is not None:
        return local.astimezone(dt.UTC)
    return local.replace(tzinfo=ZoneInfo(ctx.options.timezone)).astimezone(dt.UTC)


def _circ_refusal(
    response: type[CircResponse],
    ctx: HandlerContext,
    now: dt.datetime,
    request: Checkout | Renew,
    text: str,
) -> CircResponse:
    return response(
        ok=False,
        renewal_ok=False,
        magnetic_media=None,
        desensitize=False,
        transaction_date=ctx.local(now),
        institution_id=request.institution_id or ctx.options.institution_id,
        patron_id=request.patron_id,
        item_id=request.item_id or "",
        title="",
        due_date=None,
        screen_messages=(text,),
    )


def _circ_ok(
    response: type[CircResponse],
    ctx: HandlerContext,
    now: dt.datetime,
    request: Checkout | Renew,
    item: ItemView,
    due: dt.datetime,
    renewed: bool,
) -> CircResponse:
    return response(
        ok=True,
        renewal_ok=renewed,
        magnetic_media=item.media_type in MAGNETIC_MEDIA,
        # A renewal (29) leaves the item out with the patron: nothing to desensitize again.
        desensitize=response is CheckoutResponse,
        transaction_date=ctx.local(now),
        institution_id=request.institution_id or ctx.options.institution_id,
        patron_id=request.patron_id,
        item_id=item.barcode,
        title=item.title,
        due_date=ctx.local(due),
        media_type=MEDIA_CODES.get(item.media_type, "000"),
        item_properties=item.properties or None,
        screen_messages=("Renewed." if renewed else "Checked out.",),
    )


def _offline_terminal(ctx: HandlerContext, session: TerminalSession) -> bool:
    return session.account is not None and session.account.login in ctx.options.offline_terminals


def checkout(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: Checkout,
) -> CheckoutResponse:
    assert session.actor is not None
    if pin_state(session, request.patron_id, request.patron_password) is False:
        return _circ_refusal(CheckoutResponse, ctx, now, request, PIN_INVALID)
    try:
        with tx.write() as uow:
            if request.cancel:
                # The kiosk could not unlock the item: undo the loan (SIP2 BI).
                circulation.cancel_checkout(
                    uow, session.actor, now, request.patron_id, request.item_id
                )
                return CheckoutResponse(
                    ok=True,
                    renewal_ok=False,
                    magnetic_media=None,
                    desensitize=False,
                    transaction_date=ctx.local(now),
                    institution_id=request.institution_id or ctx.options.institution_id,
                    patron_id=request.patron_id,
                    item_id=request.item_id,
                    title="",
                    due_date=None,
                    screen_messages=("Checkout cancelled.",),
                )
            result = circulation.checkout(
                uow,
                session.actor,
                now,
                request.patron_id,
                request.item_id,
                allow_renewal=request.sc_renewal_policy,
                offline=request.no_block and _offline_terminal(ctx, session),
            )
    except DomainError as refusal:
        refused = _circ_refusal(CheckoutResponse, ctx, now, request, reason_text(refusal.reason))
        # A kiosk shows which book was refused: the title of a known item (AJ), nothing else.
        return dataclasses.replace(refused, title=title_of(tx, session, now, request.item_id))
    return _circ_ok(CheckoutResponse, ctx, now, request, result.item, result.due_at, result.renewed)


def title_of(tx: Transactions, session: TerminalSession, now: dt.datetime, barcode: str) -> str:
    """The title of a known item, "" for an unknown barcode."""
    assert session.actor is not None
    if not barcode:
        return ""
    try:
        with tx.read() as uow:
            return items.find_item(uow, session.actor, now, barcode).title
    except DomainError:
        return ""


def checkin(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: Checkin,
) -> CheckinResponse:
    """09: never names the borrower or the patron a hold is for (PRIV-16)."""
    assert session.actor is not None
    opts = ctx.options
    institution = request.institution_id or opts.institution_id

    def refuse(text: str, *, alert: bool) -> CheckinResponse:
        return CheckinResponse(
            ok=False,
            resensitize=False,
            magnetic_media=None,
            alert=alert,
            transaction_date=ctx.local(now),
            institution_id=institution,
            item_id=request.item_id,
            permanent_location="",
            screen_messages=(text,),
        )

    if request.cancel:
        return refuse("Cancelling a return is not supported.", alert=False)
    # A book drop may send the time the item was dropped; the service keeps it within the loan.
    returned_at = _aware(ctx, request.return_date)
    try:
        with tx.write() as uow:
            result = circulation.checkin(
                uow, session.actor, now, request.item_id, returned_at=returned_at
            )
    except DomainError as refusal:
        return refuse(reason_text(refusal.reason), alert=True)
    item = result.item
    alert_type: str | None = None
    sort_bin = item.location or None
    if result.on_hold_shelf:
        alert_type, sort_bin = ALERT_HOLD_HERE, "HOLDS"
    elif result.hold_trapped:
        alert_type, sort_bin = ALERT_HOLD_ELSEWHERE, f"TRANSIT-{result.destination_branch}"
    elif result.destination_branch is not None:
        alert_type, sort_bin = ALERT_TRANSIT, f"TRANSIT-{result.destination_branch}"
    messages = ["Thank you."]
    if not result.was_on_loan:
        messages.append(reason_text(Reason.ITEM_NOT_ON_LOAN))
    if result.fine:
        messages.append(f"An overdue fine of {ctx.money(result.fine)} {opts.currency} was charged.")
    return CheckinResponse(
        ok=True,
        resensitize=True,
        magnetic_media=item.media_type in MAGNETIC_MEDIA,
        alert=alert_type is not None,
        transaction_date=ctx.local(now),
        institution_id=institution,
        item_id=item.barcode,
        permanent_location=item.home_branch,
        title=item.title,
        sort_bin=sort_bin,
        media_type=MEDIA_CODES.get(item.media_type, "000"),
        item_properties=item.properties or None,
        alert_type=alert_type,
        screen_messages=tuple(messages),
    )


def renew(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: Renew,
) -> RenewResponse:
    assert session.actor is not None
    if pin_state(session, request.patron_id, request.patron_password) is False:
        return _circ_refusal(RenewResponse, ctx, now, request, PIN_INVALID)
    if not request.item_id:
        text = "Please scan the item to renew."
        return _circ_refusal(RenewResponse, ctx, now, request, text)
    try:
        with tx.write() as uow:
            result = circulation.renew(uow, session.actor, now, request.item_id, request.patron_id)
    except DomainError as refusal:
        text = reason_text(refusal.reason)
        return _circ_refusal(RenewResponse, ctx, now, request, text)
    return _circ_ok(RenewResponse, ctx, now, request, result.item, result.due_at, True)


def renew_all(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: RenewAll,
) -> RenewAllResponse:
    assert session.actor is not None
    institution = request.institution_id or ctx.options.institution_id
    refused = RenewAllResponse(
        ok=False,
        renewed_count=0,
        unrenewed_count=0,
        transaction_date=ctx.local(now),
        institution_id=institution,
        screen_messages=(PIN_INVALID,),
    )
    pin_ok = pin_state(session, request.patron_id, request.patron_password)
    if pin_ok is False:
        return refused
    try:
        with tx.write() as uow:
            result = circulation.renew_all(uow, session.actor, now, request.patron_id)
    except DomainError as refusal:
        return RenewAllResponse(
            ok=False,
            renewed_count=0,
            unrenewed_count=0,
            transaction_date=ctx.local(now),
            institution_id=institution,
            screen_messages=(reason_text(refusal.reason),),
        )
    # Item lists name what a patron borrowed: only after a valid PIN (PRIV-16).
    return RenewAllResponse(
        ok=True,
        renewed_count=len(result.renewed),
        unrenewed_count=len(result.unrenewed),
        transaction_date=ctx.local(now),
        institution_id=institution,
        renewed_items=tuple(r.item.barcode for r in result.renewed) if pin_ok else (),
        unrenewed_items=tuple(barcode for barcode, _ in result.unrenewed) if pin_ok else (),
        screen_messages=(f"{len(result.renewed)} renewed, {len(result.unrenewed)} not renewed.",),
    )


def hold(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: Hold,
) -> HoldResponse:
    assert session.actor is not None
    institution = request.institution_id or ctx.options.institution_id

    def refuse(text: str) -> HoldResponse:
        return HoldResponse(
            ok=False,
            available=False,
            transaction_date=ctx.local(now),
            institution_id=institution,
            patron_id=request.patron_id,
            item_id=request.item_id,
            screen_messages=(text,),
        )

    if pin_state(session, request.patron_id, request.patron_password) is False:
        return refuse(PIN_INVALID)
    if not request.item_id:
        return refuse("Please scan an item of the title to place a hold.")
    expires = _aware(ctx, request.expiration_date)
    try:
        with tx.write() as uow:
            if request.hold_mode == "-":
                holds.cancel_hold(
                    uow, session.actor, now, request.patron_id, item_barcode=request.item_id
                )
                return HoldResponse(
                    ok=True,
                    available=False,
                    transaction_date=ctx.local(now),
                    institution_id=institution,
                    patron_id=request.patron_id,
                    item_id=request.item_id,
                    screen_messages=("Hold cancelled.",),
                )
            if request.hold_mode == "*":
                view = holds.change_hold(
                    uow,
                    session.actor,
                    now,
                    request.patron_id,
                    item_barcode=request.item_id,
                    pickup_branch=request.pickup_location or None,
                    expires_at=expires,
                )
            elif request.hold_mode == "+":
                view = holds.place_hold(
                    uow,
                    session.actor,
                    now,
                    request.patron_id,
                    item_barcode=request.item_id,
                    item_level=request.hold_type == "3",
                    pickup_branch=request.pickup_location or None,
                    expires_at=expires,
                )
            else:
                return refuse("Unknown hold mode.")
    except DomainError as refusal:
        return refuse(reason_text(refusal.reason))
    return HoldResponse(
        ok=True,
        available=view.status == "on_shelf",
        transaction_date=ctx.local(now),
        expiration_date=ctx.local(view.expires_at),
        queue_position=view.queue_position,
        pickup_location=view.pickup_branch,
        institution_id=institution,
        patron_id=request.patron_id,
        item_id=request.item_id,
        title=view.title,
        screen_messages=("Hold placed." if request.hold_mode == "+" else "Hold changed.",),
    )


def fee_paid(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: FeePaid,
) -> FeePaidResponse:
    assert session.actor is not None
    institution = request.institution_id or ctx.options.institution_id

    def answer(accepted: bool, text: str) -> FeePaidResponse:
        return FeePaidResponse(
            payment_accepted=accepted,
            transaction_date=ctx.local(now),
            institution_id=institution,
            patron_id=request.patron_id,
            transaction_id=request.transaction_id,
            screen_messages=(text,),
        )

    if pin_state(session, request.patron_id, request.patron_password) is False:
        return answer(False, PIN_INVALID)
    if request.currency_type and request.currency_type != ctx.options.currency:
        return answer(False, "Currency not accepted.")
    amount = parse_money(request.fee_amount)
    method = PAYMENT_TYPES.get(request.payment_type)
    if amount is None or method is None:
        return answer(False, reason_text(Reason.INVALID_AMOUNT))
    fee_id: int | None = None
    if request.fee_identifier:
        if not request.fee_identifier.isdigit():
            return answer(False, reason_text(Reason.FEE_NOT_FOUND))
        fee_id = int(request.fee_identifier)
    try:
        with tx.write() as uow:
            result = fees.pay_fees(
                uow,
                session.actor,
                now,
                request.patron_id,
                amount,
                fee_id=fee_id,
                method=method,
                transaction_id=(request.transaction_id or None),
            )
    except DomainError as refusal:
        return answer(False, reason_text(refusal.reason))
    return answer(
        True,
        f"Payment accepted; {ctx.money(result.outstanding)} {ctx.options.currency} still owed.",
    )
