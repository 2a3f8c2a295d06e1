"""Checkout, checkin, renew, renew-all and cancel; history only on opt-in, statistics always.

Each use case is one function over the store's named operations (core.store.repository): the
decisions are core.policy's, the reads and writes the repository's (PRIV-03: the loan row is
the only link between patron and item, and it goes at checkin).
"""

from __future__ import annotations

import datetime as dt

from core.errors import DomainError, NotFound
from core.model import Hold, HoldStatus, ItemStatus, Loan
from core.policy.calendar import add_open_days, due_date, local_date, start_of_day
from core.policy.fines import overdue_fine
from core.policy.holds import HoldCandidate, hold_to_trap
from core.policy.loans import (
    checkout_refusal,
    effective_return_time,
    offline_checkout_refusal,
    renewal_refusal,
    renewed_due_date,
)
from core.policy.reasons import Reason
from core.privacy.destruction import record_destruction
from core.services.actors import Actor, Permission
from core.services.items import item_view, require_item
from core.services.standing import patron_blocks, require_patron_row
from core.services.views import CheckinResult, CheckoutResult, RenewAllResult, RenewResult
from core.store import repository
from core.store.repository import ItemRow, PatronRow
from core.store.uow import UnitOfWork


def _count(
    uow: UnitOfWork, now: dt.datetime, actor: Actor, media_type: str, category: str, event: str
) -> None:
    # PRIV-03: the day the server processed it, the branch, the kinds; no patron, no item.
    repository.count_event(
        uow,
        day=local_date(now, uow.env.rules.calendar),
        branch=actor.branch,
        media_type=media_type,
        category=category,
        event=event,
    )


def _touch(uow: UnitOfWork, patron_id: int, last: dt.date, moment: dt.datetime) -> None:
    """Last activity by day only, for the inactive-account rule (PRIV-07); never backwards."""
    day = local_date(moment, uow.env.rules.calendar)
    if day > last:
        repository.touch_patron(uow, patron_id, day)


def checkout(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron_barcode: str,
    item_barcode: str,
    *,
    allow_renewal: bool = True,
    offline: bool = False,
) -> CheckoutResult:
    """Lend an item; an item the patron already has is renewed instead (SIP2 renewal ok).

    ``offline`` records a loan a terminal configured for offline use already made (SIP2 "no
    block"): the item has left, so patron limits and the item's status no longer refuse it, but
    a lost or expired card, a copy set aside for another patron and a withdrawn copy still do;
    the due date is always the loan rule's.
    """
    actor.require(Permission.CIRCULATE)
    rules = uow.env.rules
    patron = require_patron_row(uow, patron_barcode, now)
    item = require_item(repository.find_item_for_patron(uow, item_barcode, patron.id))
    if item.loan_id is not None:
        if item.loan_patron_id != patron.id:
            raise DomainError(Reason.ITEM_NOT_AVAILABLE)
        if not allow_renewal:
            raise DomainError(Reason.RENEWAL_LIMIT)
        renewed = _renew(uow, actor, now, patron, item)
        return CheckoutResult(item=renewed.item, due_at=renewed.due_at, renewed=True)

    trapped_for_other = item.trap_hold_id is not None and item.trap_patron_id != patron.id
    status = item.status
    if item.trap_hold_id is not None and not trapped_for_other:
        status = ItemStatus.ON_HOLD_SHELF.value  # the patron caught it before it was shelved
    blocks = patron_blocks(uow, patron, now)
    rule = rules.rule_for(patron.category, item.media_type)
    if offline:
        refusal = offline_checkout_refusal(
            blocks=blocks, item_status=status, hold_for_other_patron=trapped_for_other
        )
    else:
        refusal = checkout_refusal(
            blocks=blocks,
            rule=rule,
            loans_of_media_type=item.loans_of_media_type,
            item_status=status,
            hold_for_other_patron=trapped_for_other,
        )
    if refusal is not None:
        raise DomainError(refusal)

    queue = item.hold_queue
    if item.own_hold_id is not None:
        repository.end_hold(uow, item.own_hold_id)  # the loan fills the patron's own hold
        record_destruction(uow.session, Hold, [item.own_hold_id])  # PRIV-07: for good
        queue -= 1
    due = due_date(now, rule.loan_days, rules.calendar)
    repository.start_loan(
        uow, patron_id=patron.id, item_id=item.id, branch=actor.branch, now=now, due_at=due
    )
    repository.set_item_status(uow, item.id, ItemStatus.ON_LOAN.value, now)
    _touch(uow, patron.id, patron.last_activity_on, now)
    _count(uow, now, actor, item.media_type, patron.category, "checkout")
    view = item_view(item, status=ItemStatus.ON_LOAN.value, due_at=due, hold_queue=queue)
    return CheckoutResult(item=view, due_at=due, renewed=False)


def _shelve_or_send(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    item: ItemRow,
    hold_id: int,
    pickup_branch: str,
    holder_category: str,
) -> str:
    """Put a trapped copy on this branch's hold shelf, or send it to the pickup branch."""
    rules = uow.env.rules
    if pickup_branch == actor.branch:
        rule = rules.rule_for(holder_category, item.media_type)
        shelf_until = add_open_days(now, rule.hold_shelf_days, rules.calendar)
        repository.trap_hold(uow, hold_id, item.id, HoldStatus.ON_SHELF.value, shelf_until)
        return ItemStatus.ON_HOLD_SHELF.value
    repository.trap_hold(uow, hold_id, item.id, HoldStatus.IN_TRANSIT.value, None)
    return ItemStatus.IN_TRANSIT.value


def _trap(uow: UnitOfWork, actor: Actor, now: dt.datetime, item: ItemRow) -> tuple[str, str] | None:
    """Set the copy aside for the oldest waiting hold it fills: (new status, pickup branch)."""
    waiting = repository.holds_waiting_for_copy(uow, item.record_id, item.id)
    candidates = [
        HoldCandidate(
            hold_id=hold.id,
            record_id=hold.record_id,
            item_id=hold.item_id,
            pickup_branch=hold.pickup_branch,
            placed_at=hold.placed_at,
            expires_at=hold.expires_at,
        )
        for hold in waiting
    ]
    chosen = hold_to_trap(item_id=item.id, record_id=item.record_id, holds=candidates, now=now)
    if chosen is None:
        return None
    holder = next(hold for hold in waiting if hold.id == chosen.hold_id)
    status = _shelve_or_send(
        uow, actor, now, item, holder.id, holder.pickup_branch, holder.patron_category
    )
    return status, holder.pickup_branch


def checkin(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    item_barcode: str,
    *,
    returned_at: dt.datetime | None = None,
) -> CheckinResult:
    """Return an item: delete the loan, keep history only on opt-in, count it, route the item.

    ``returned_at`` is the time a book drop or an offline terminal reports; it counts only
    within [loan start, now] (fines and history use it, clamped). Statistics and the item's
    status use ``now``, the time the server processed the return.
    """
    actor.require(Permission.CIRCULATE)
    rules = uow.env.rules
    item = require_item(repository.find_item_for_return(uow, item_barcode))
    fine = 0
    if item.loan_id is not None:
        assert item.loan_patron_id is not None and item.borrower_category is not None
        assert item.loan_checked_out_at is not None and item.loan_due_at is not None
        assert item.borrower_last_activity_on is not None
        patron_id, category = item.loan_patron_id, item.borrower_category
        returned = effective_return_time(returned_at, item.loan_checked_out_at, now)
        rule = rules.rule_for(category, item.media_type)
        fine = overdue_fine(item.loan_due_at, returned, rule, rules.calendar)
        if fine > 0:
            # PRIV-03: the day only, so a settled fee cannot be matched to the item's times.
            repository.charge_overdue(
                uow,
                patron_id=patron_id,
                item_id=item.id,
                amount=fine,
                charged_at=start_of_day(now, rules.calendar),
            )
        if item.borrower_keeps_history:  # PRIV-02/03: only on opt-in
            repository.remember_reading(
                uow,
                patron_id=patron_id,
                record_id=item.record_id,
                title=item.title,
                author=item.author,
                day=local_date(returned, rules.calendar),
            )
        repository.end_loan(uow, item.loan_id)  # PRIV-03: the patron-item link goes now
        record_destruction(uow.session, Loan, [item.loan_id])  # PRIV-07: for good
        _touch(uow, patron_id, item.borrower_last_activity_on, returned)
        _count(uow, now, actor, item.media_type, category, "checkin")

    destination: str | None = None
    trapped = False
    if item.trap_hold_id is not None:
        # Arrived at (or returned again to) a branch for the hold it is set aside for.
        assert item.trap_pickup_branch is not None
        status = _shelve_or_send(
            uow,
            actor,
            now,
            item,
            item.trap_hold_id,
            item.trap_pickup_branch,
            item.trap_patron_category or "",
        )
        trapped = True
        if status == ItemStatus.IN_TRANSIT.value:
            destination = item.trap_pickup_branch
    else:
        caught = _trap(uow, actor, now, item) if item.holds_on_record else None
        if caught is not None:
            status, pickup = caught
            trapped = True
            if status == ItemStatus.IN_TRANSIT.value:
                destination = pickup
        elif item.home_branch != actor.branch:
            status, destination = ItemStatus.IN_TRANSIT.value, item.home_branch
        else:
            status = ItemStatus.AVAILABLE.value
    if trapped or destination is not None or status != item.status:
        repository.set_item_status(uow, item.id, status, now)
    return CheckinResult(
        item=item_view(item, status=status),
        was_on_loan=item.loan_id is not None,
        fine=fine,
        hold_trapped=trapped,
        destination_branch=destination,
        on_hold_shelf=status == ItemStatus.ON_HOLD_SHELF.value,
    )


def _renew(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron: PatronRow, item: ItemRow
) -> RenewResult:
    """Renew the patron's loan of ``item`` (read with ``find_item_for_patron``)."""
    rules = uow.env.rules
    assert item.loan_id is not None and item.loan_due_at is not None
    rule = rules.rule_for(patron.category, item.media_type)
    refusal = renewal_refusal(
        blocks=patron_blocks(uow, patron, now),
        rule=rule,
        renewals_done=item.loan_renewals,
        holds_waiting=item.others_waiting,
    )
    if refusal is not None:
        raise DomainError(refusal)
    due = renewed_due_date(now, item.loan_due_at, rule, rules.calendar)
    renewals = item.loan_renewals + 1
    repository.extend_loan(uow, item.loan_id, due, renewals)
    _touch(uow, patron.id, patron.last_activity_on, now)
    _count(uow, now, actor, item.media_type, patron.category, "renew")
    return RenewResult(item=item_view(item, due_at=due), due_at=due, renewals=renewals)


def renew(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    item_barcode: str,
    patron_barcode: str | None = None,
) -> RenewResult:
    """Renew one loan; with a patron barcode the loan must be that patron's."""
    actor.require(Permission.CIRCULATE)
    if patron_barcode is None:
        loan = require_item(repository.find_item(uow, item_barcode))
        if loan.loan_patron_id is None:
            raise DomainError(Reason.ITEM_NOT_ON_LOAN)
        patron = repository.find_patron_by_id(uow, loan.loan_patron_id, now)
    else:
        patron = repository.find_patron(uow, patron_barcode, now)
    patron_id = patron.id if patron is not None else None
    item = require_item(repository.find_item_for_patron(uow, item_barcode, patron_id))
    if item.loan_id is None:
        raise DomainError(Reason.ITEM_NOT_ON_LOAN)
    if patron is None:
        raise NotFound(Reason.PATRON_NOT_FOUND)
    if item.loan_patron_id != patron.id:
        raise DomainError(Reason.NOT_BORROWER)
    return _renew(uow, actor, now, patron, item)


def renew_all(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron_barcode: str
) -> RenewAllResult:
    """Renew every loan of a patron that may be renewed; report the others with their reason."""
    actor.require(Permission.CIRCULATE)
    patron = require_patron_row(uow, patron_barcode, now)
    renewed: list[RenewResult] = []
    unrenewed: list[tuple[str, str]] = []
    for loan in repository.loans_of_patron(uow, patron.id):
        item = require_item(repository.find_item_for_patron(uow, loan.item_barcode, patron.id))
        try:
            # A refusal is decided before anything is written, so nothing needs undoing.
            renewed.append(_renew(uow, actor, now, patron, item))
        except DomainError as refusal:
            unrenewed.append((item.barcode, refusal.reason.value))
    return RenewAllResult(renewed=tuple(renewed), unrenewed=tuple(unrenewed))


def cancel_checkout(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron_barcode: str, item_barcode: str
) -> None:
    """Undo a checkout the terminal could not complete (SIP2 cancel, e.g. the tag write failed)."""
    actor.require(Permission.CIRCULATE)
    patron = require_patron_row(uow, patron_barcode, now)
    item = require_item(repository.find_item(uow, item_barcode))
    if item.loan_id is None:
        raise DomainError(Reason.ITEM_NOT_ON_LOAN)
    if item.loan_patron_id != patron.id:
        raise DomainError(Reason.NOT_BORROWER)
    repository.end_loan(uow, item.loan_id)  # PRIV-03
    record_destruction(uow.session, Loan, [item.loan_id])  # PRIV-07: for good
    repository.set_item_status(uow, item.id, ItemStatus.AVAILABLE.value, now)
