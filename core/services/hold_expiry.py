"""Holds that lapse: requests past their date and hold-shelf periods past theirs (daily job).

A lapsed hold is deleted (and noted in the destruction ledger, so no restore brings it back).
A copy on the hold shelf for it goes through the ordinary return at its pickup branch
(`circulation.checkin`, no loan): set aside for the next patron in line, whose hold-ready
notice the next notice run sends, or sent home, or back on the shelf. A copy in transit for a
lapsed hold keeps travelling and is routed when it is checked in where it arrives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select

from core.model import Hold, HoldStatus, Item
from core.privacy.destruction import record_destruction
from core.services import circulation
from core.services.actors import Actor, ActorKind, Role
from core.store import repository
from core.store.uow import UnitOfWork

EXPIRY_ACTOR_NAME = "hold-expiry"


@dataclass(frozen=True)
class HoldExpiryReport:
    """What one batch did, in counts only."""

    requests_lapsed: int = 0  # waiting or in transit, past `expires_at`
    shelf_lapsed: int = 0  # on the hold shelf, past `shelf_expires_at`
    retrapped: int = 0  # copies set aside again for the next patron in line

    @property
    def lapsed(self) -> int:
        return self.requests_lapsed + self.shelf_lapsed

    def __add__(self, other: HoldExpiryReport) -> HoldExpiryReport:
        return HoldExpiryReport(
            self.requests_lapsed + other.requests_lapsed,
            self.shelf_lapsed + other.shelf_lapsed,
            self.retrapped + other.retrapped,
        )


def _lapsed(now: dt.datetime) -> ColumnElement[bool]:
    on_shelf = Hold.status == HoldStatus.ON_SHELF.value
    return or_(
        and_(~on_shelf, Hold.expires_at.is_not(None), Hold.expires_at < now),
        and_(on_shelf, Hold.shelf_expires_at.is_not(None), Hold.shelf_expires_at < now),
    )


def expire_holds(uow: UnitOfWork, now: dt.datetime, *, limit: int) -> HoldExpiryReport:
    """Lapse up to `limit` holds, oldest first; call again until it lapses none."""
    rows = uow.session.execute(
        select(Hold.id, Hold.status, Hold.pickup_branch, Item.barcode)
        .outerjoin(Item, Item.id == Hold.trapped_item_id)
        .where(_lapsed(now))
        .order_by(Hold.id)
        .limit(limit)
    ).all()
    report = HoldExpiryReport()
    for hold_id, status, pickup_branch, trapped_barcode in rows:
        repository.end_hold(uow, hold_id)
        record_destruction(uow.session, Hold, [hold_id])  # PRIV-07: no restore brings it back
        if status != HoldStatus.ON_SHELF.value:
            report += HoldExpiryReport(requests_lapsed=1)
            continue
        retrapped = 0
        if trapped_barcode is not None:
            # The copy is on the shelf at the pickup branch: return it there, as staff would.
            actor = Actor(ActorKind.SYSTEM, EXPIRY_ACTOR_NAME, Role.SYSTEM, pickup_branch)
            result = circulation.checkin(uow, actor, now, trapped_barcode)
            retrapped = int(result.hold_trapped)
        report += HoldExpiryReport(shelf_lapsed=1, retrapped=retrapped)
    return report
