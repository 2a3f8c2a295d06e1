"""Item messages: item information (17) and item status update (19); never who has an item."""

from __future__ import annotations

import datetime as dt

from core.errors import DomainError
from core.services import items
from core.store.uow import Transactions
from sip2.codec import (
    ItemInformation,
    ItemInformationResponse,
    ItemStatusUpdate,
    ItemStatusUpdateResponse,
)
from sip2.handlers._common import CIRCULATION_STATUS, MEDIA_CODES, HandlerContext, reason_text
from sip2.handlers.session import TerminalSession


def item_information(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: ItemInformation,
) -> ItemInformationResponse:
    assert session.actor is not None
    try:
        with tx.read() as uow:
            item = items.find_item(uow, session.actor, now, request.item_id)
    except DomainError as refusal:
        return ItemInformationResponse(
            circulation_status="01",
            security_marker="00",
            fee_type="01",
            transaction_date=ctx.local(now),
            item_id=request.item_id,
            title="",
            screen_messages=(reason_text(refusal.reason),),
        )
    # PRIV-16: status, due date and places only; no borrower, no hold patron.
    return ItemInformationResponse(
        circulation_status=CIRCULATION_STATUS.get(item.status, "01"),
        security_marker=ctx.options.security_marker,
        fee_type="01",
        transaction_date=ctx.local(now),
        hold_queue_length=item.hold_queue_length,
        due_date=ctx.local(item.due_at),
        item_id=item.barcode,
        title=item.title,
        owner=ctx.options.institution_id,
        media_type=MEDIA_CODES.get(item.media_type, "000"),
        permanent_location=item.home_branch,
        current_location=item.location or None,
        item_properties=item.properties or None,
    )


def item_status_update(
    ctx: HandlerContext,
    tx: Transactions,
    session: TerminalSession,
    now: dt.datetime,
    request: ItemStatusUpdate,
) -> ItemStatusUpdateResponse:
    assert session.actor is not None
    try:
        with tx.write() as uow:
            item = items.set_item_properties(
                uow, session.actor, now, request.item_id, request.item_properties
            )
    except DomainError as refusal:
        return ItemStatusUpdateResponse(
            item_properties_ok=False,
            transaction_date=ctx.local(now),
            item_id=request.item_id,
            screen_messages=(reason_text(refusal.reason),),
        )
    return ItemStatusUpdateResponse(
        item_properties_ok=True,
        transaction_date=ctx.local(now),
        item_id=item.barcode,
        title=item.title,
        item_properties=item.properties or None,
    )
