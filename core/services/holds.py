"""Placing, changing and cancelling holds on titles or items, and the one view of a hold."""

from __future__ import annotations

import datetime as dt

from core.errors import DomainError, NotFound
from core.model import Hold, HoldStatus, ItemStatus
from core.policy.blocks import hold_refusal_for_blocks
from core.policy.holds import HoldCandidate, queue_position
from core.policy.reasons import Reason
from core.privacy.destruction import record_destruction
from core.services.actors import Actor, Permission
from core.services.items import require_item
from core.services.standing import patron_blocks, require_patron_row
from core.services.views import HoldView
from core.store import repository
from core.store.repository import HoldRow
from core.store.uow import UnitOfWork


def hold_view(uow: UnitOfWork, hold: HoldRow) -> HoldView:
    """A hold as the patron, the desk and the kiosk see it, with its place in the queue.

    The copy it names is the one set aside for it, else the one an item-level hold asks for
    (``HoldRow.item_barcode``): every view of a hold is built here.
    """
    queue = [
        HoldCandidate(
            hold_id=other.id,
            record_id=other.record_id,
            item_id=other.item_id,
            pickup_branch=other.pickup_branch,
            placed_at=other.placed_at,
            expires_at=other.expires_at,
        )
        for other in repository.holds_on_record(uow, hold.record_id)
    ]
    return HoldView(
        hold_id=hold.id,
        title=hold.title,
        item_barcode=hold.item_barcode,
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
    rules = uow.env.rules
    patron = require_patron_row(uow, patron_barcode, now)
    item_id: int | None = None
    if item_barcode is not None:
        item = require_item(repository.find_item(uow, item_barcode))
        record_id, item_id = item.record_id, item.id
    if record_id is None or repository.find_record(uow, record_id) is None:
        raise NotFound(Reason.ITEM_NOT_FOUND)
    branch = pickup_branch or patron.home_branch
    if branch not in rules.branches:
        raise DomainError(Reason.UNKNOWN_BRANCH)
    refusal = hold_refusal_for_blocks(patron_blocks(uow, patron, now))
    if refusal is not None:
        raise DomainError(refusal)
    if repository.hold_of_patron_on_record(uow, patron.id, record_id) is not None:
        raise DomainError(Reason.HOLD_EXISTS)
    if repository.has_loan_of_record(uow, patron.id, record_id):
        raise DomainError(Reason.HOLD_ON_OWN_LOAN)
    repository.place_hold(
        uow,
        patron_id=patron.id,
        record_id=record_id,
        item_id=item_id if item_level else None,
        pickup_branch=branch,
        placed_at=now,
        expires_at=expires_at,
    )
    placed = repository.hold_of_patron_on_record(uow, patron.id, record_id)
    assert placed is not None
    return hold_view(uow, placed)


def _find_hold(
    uow: UnitOfWork, patron_id: int, item_barcode: str | None, record_id: int | None
) -> HoldRow:
    if item_barcode is not None:
        record_id = require_item(repository.find_item(uow, item_barcode)).record_id
    if record_id is not None:
        hold = repository.hold_of_patron_on_record(uow, patron_id, record_id)
    else:
        hold = next(iter(repository.holds_of_patron(uow, patron_id)), None)
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
    patron = require_patron_row(uow, patron_barcode, now)
    hold = _find_hold(uow, patron.id, item_barcode, record_id)
    repository.end_hold(uow, hold.id)
    record_destruction(uow.session, Hold, [hold.id])  # PRIV-07: no restore brings it back
    if hold.trapped_item_id is not None:
        repository.set_item_status(uow, hold.trapped_item_id, ItemStatus.AVAILABLE.value, now)


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
    """Change the pickup branch or expiry of a hold (the branch only while it waits)."""
    actor.require(Permission.CIRCULATE)
    patron = require_patron_row(uow, patron_barcode, now)
    hold = _find_hold(uow, patron.id, item_barcode, record_id)
    branch = hold.pickup_branch
    if pickup_branch is not None:
        if pickup_branch not in uow.env.rules.branches:
            raise DomainError(Reason.UNKNOWN_BRANCH)
        if hold.status == HoldStatus.WAITING.value:
            branch = pickup_branch
    expiry = hold.expires_at if expires_at is None else expires_at
    repository.change_hold(uow, hold.id, branch, expiry)
    return hold_view(uow, hold._replace(pickup_branch=branch, expires_at=expiry))
