"""Item lookups and item status changes (what a kiosk, sorter or desk asks about a copy)."""

from __future__ import annotations

import datetime as dt

from core.errors import NotFound
from core.policy.reasons import Reason
from core.services.actors import Actor, Permission
from core.services.views import ItemView
from core.store import repository
from core.store.repository import ItemRow
from core.store.uow import UnitOfWork

ON_LOAN = "on_loan"


def require_item(row: ItemRow | None) -> ItemRow:
    """The row a lookup found, or NotFound."""
    if row is None:
        raise NotFound(Reason.ITEM_NOT_FOUND)
    return row


def item_view(
    item: ItemRow,
    *,
    status: str | None = None,
    due_at: dt.datetime | None = None,
    hold_queue: int | None = None,
    properties: str | None = None,
) -> ItemView:
    """What may be shown of a copy, after the changes given; the due date only while on loan."""
    status = item.status if status is None else status
    if due_at is None and status == ON_LOAN:
        due_at = item.loan_due_at
    return ItemView(
        barcode=item.barcode,
        title=item.title,
        author=item.author,
        isbn=item.isbn,
        call_number=item.call_number,
        media_type=item.media_type,
        home_branch=item.home_branch,
        location=item.location,
        status=status,
        due_at=due_at if status == ON_LOAN else None,
        hold_queue_length=item.hold_queue if hold_queue is None else hold_queue,
        properties=item.properties if properties is None else properties,
        rfid_tag=item.rfid_tag,
    )


def find_item(uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str) -> ItemView:
    """An item's bibliographic data, place and status; never who has it (PRIV-16)."""
    actor.require(Permission.CIRCULATE if not actor.is_person else Permission.VIEW_PATRON)
    return item_view(require_item(repository.find_item(uow, barcode)))


def set_item_properties(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str, properties: str
) -> ItemView:
    """Store an item's free-text properties (SIP2 item status update, CH)."""
    actor.require(Permission.CIRCULATE)
    item = require_item(repository.find_item(uow, barcode))
    kept = properties[:255]
    repository.set_item_properties(uow, item.id, kept)
    return item_view(item, properties=kept)
