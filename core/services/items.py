"""Item lookups and item status changes (what a kiosk, sorter or desk asks about a copy)."""

from __future__ import annotations

import datetime as dt

from core.services._queries import flush_pending, item_by_barcode, item_row, item_view
from core.services.actors import Actor, Permission
from core.services.views import ItemView
from core.store.uow import UnitOfWork


def find_item(uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str) -> ItemView:
    """An item's bibliographic data, place and status; never who has it (PRIV-16)."""
    actor.require(Permission.CIRCULATE if not actor.is_person else Permission.VIEW_PATRON)
    flush_pending(uow.session)
    return item_row(uow.session, barcode).view()  # one prepared statement (every kiosk scan)


def set_item_properties(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str, properties: str
) -> ItemView:
    """Store an item's free-text properties (SIP2 item status update, CH)."""
    actor.require(Permission.CIRCULATE)
    item = item_by_barcode(uow.session, barcode)
    item.properties = properties[:255]
    uow.session.flush()
    return item_view(uow.session, item)
