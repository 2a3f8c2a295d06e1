"""Placing, changing and cancelling holds on titles or items."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.errors import DomainError, NotFound
from core.model import Hold, HoldStatus, Item, ItemStatus, Loan, Record
from core.policy.blocks import hold_refusal_for_blocks
from core.policy.holds import HoldCandidate, queue_position
from core.policy.reasons import Reason
from core.services._queries import item_by_barcode, patron_blocks, patron_by_barcode
from core.services.actors import Actor, Permission
from core.services.views import HoldView
from core.store.uow import UnitOfWork


def _view(uow: UnitOfWork, hold: Hold) -> HoldView:
    session = uow.session
    queue = [
        HoldCandidate(
            hold_id=h.id,
            record_id=h.record_id,
            item_id=h.item_id,
            pickup_branch=h.pickup_branch,
            placed_at=h.placed_at,
            expires_at=h.expires_at,
        )
        for h in session.scalars(select(Hold).where(Hold.record_id == hold.record_id))
    ]
    title = session.scalar(select(Record.title).where(Record.id == hold.record_id)) or ""
    barcode = None
    if hold.item_id is not None:
        barcode = session.scalar(select(Item.barcode).where(Item.id == hold.item_id))
    return HoldView(
        hold_id=hold.id,
        title=title,
        item_barcode=barcode,
        pickup_branch=hold.pickup_branch,
        status=hold.status,
        queue_position=queue_position(hold.id, queue),
        placed_at=hold.placed_at,
        expires_at=hold.expires_at,
        shelf_expires_at=hold.shelf_expires_at,
    )


def place_hold(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron_barcode: str,
    *,
    item_barcode: str | None = None,
    record_id: int | None = None,
    item_level: bool = False,
    pickup_branch: str | None = None,
    expires_at: dt.datetime | None = None,
) -> HoldView:
    """Queue a hold on a title (any copy) or, with `item_level`, on one item."""
    actor.require(Permission.CIRCULATE)
    session, rules = uow.session, uow.env.rules
    patron = patron_by_barcode(session, patron_barcode)
    item: Item | None = None
    if item_barcode is not None:
        item = item_by_barcode(session, item_barcode)
        record_id = item.record_id
    if record_id is None or session.get(Record, record_id) is None:
        raise NotFound(Reason.ITEM_NOT_FOUND)
    branch = pickup_branch or patron.home_branch
    if branch not in rules.branches:
        raise DomainError(Reason.UNKNOWN_BRANCH)
    refusal = hold_refusal_for_blocks(patron_blocks(uow, patron, now))
    if refusal is not None:
        raise DomainError(refusal)
    existing = session.scalar(
        select(Hold.id).where(Hold.patron_id == patron.id, Hold.record_id == record_id)
    )
    if existing is not None:
        raise DomainError(Reason.HOLD_EXISTS)
    on_loan_to_patron = session.scalar(
        select(Loan.id)
        .join(Item, Item.id == Loan.item_id)
        .where(Loan.patron_id == patron.id, Item.record_id == record_id)
    )
    if on_loan_to_patron is not None:
        raise DomainError(Reason.HOLD_ON_OWN_LOAN)
    hold = Hold(
        patron_id=patron.id,
        record_id=record_id,
        item_id=item.id if (item_level and item is not None) else None,
        pickup_branch=branch,
        placed_at=now,
        expires_at=expires_at,
        status=HoldStatus.WAITING.value,
    )
    session.add(hold)
    session.flush()
    return _view(uow, hold)


def _find_hold(
    uow: UnitOfWork, patron_id: int, item_barcode: str | None, record_id: int | None
) -> Hold:
    session = uow.session
    query = select(Hold).where(Hold.patron_id == patron_id)
    if item_barcode is not None:
        item = item_by_barcode(session, item_barcode)
        query = query.where(Hold.record_id == item.record_id)
    elif record_id is not None:
        query = query.where(Hold.record_id == record_id)
    hold = session.scalars(query.order_by(Hold.placed_at, Hold.id).limit(1)).one_or_none()
    if hold is None:
        raise NotFound(Reason.HOLD_NOT_FOUND)
    return hold


def cancel_hold(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron_barcode: str,
    *,
    item_barcode: str | None = None,
    record_id: int | None = None,
) -> None:
    """Cancel a hold; a copy set aside for it goes back to circulation."""
    actor.require(Permission.CIRCULATE)
    session = uow.session
    patron = patron_by_barcode(session, patron_barcode)
    hold = _find_hold(uow, patron.id, item_barcode, record_id)
    if hold.trapped_item_id is not None:
        item = session.get_one(Item, hold.trapped_item_id)
        item.status = ItemStatus.AVAILABLE.value
        item.status_changed_at = now
    session.delete(hold)
    session.flush()


def change_hold(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron_barcode: str,
    *,
    item_barcode: str | None = None,
    record_id: int | None = None,
    pickup_branch: str | None = None,
    expires_at: dt.datetime | None = None,
) -> HoldView:
    """Change the pickup branch or expiry of a waiting hold."""
    actor.require(Permission.CIRCULATE)
    patron = patron_by_barcode(uow.session, patron_barcode)
    hold = _find_hold(uow, patron.id, item_barcode, record_id)
    if pickup_branch is not None:
        if pickup_branch not in uow.env.rules.branches:
            raise DomainError(Reason.UNKNOWN_BRANCH)
        if hold.status == HoldStatus.WAITING.value:
            hold.pickup_branch = pickup_branch
    if expires_at is not None:
        hold.expires_at = expires_at
    uow.session.flush()
    return _view(uow, hold)
