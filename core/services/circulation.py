"""Checkout, checkin, renew and renew-all; history only on opt-in, statistics always (PRIV-03)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from core.errors import DomainError
from core.model import (
    Fee,
    FeeStatus,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Loan,
    Patron,
    ReadingHistory,
)
from core.policy.calendar import add_open_days, due_date, local_date
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.policy.fines import overdue_fine
from core.policy.holds import HoldCandidate, hold_to_trap
from core.policy.loans import checkout_refusal, renewal_refusal, renewed_due_date
from core.policy.reasons import Reason
from core.services._fast_circulation import (
    LOANS_OF_MEDIA_TYPE,
    checkin_fast,
    checkout_fast,
)
from core.services._queries import (
    flush_pending,
    has_consent,
    item_by_barcode,
    item_row,
    item_view,
    patron_blocks,
    patron_by_barcode,
    patron_row,
    touch_patron,
)
from core.services.actors import Actor, Permission
from core.services.stats import count_circulation
from core.services.views import CheckinResult, CheckoutResult, RenewAllResult, RenewResult
from core.store.uow import UnitOfWork

# Statements of every checkout and checkin, built once (see core/services/_queries.py).
_LOAN_OF_ITEM = select(Loan).where(Loan.item_id == bindparam("item_id"))
_HOLDS_ON_RECORD = select(func.count(Hold.id)).where(Hold.record_id == bindparam("record_id"))
_TRAPPED_FOR_ITEM = select(Hold).where(Hold.trapped_item_id == bindparam("item_id"))


def _loans_of_media_type(session: Session, patron_id: int, media_type: str) -> int:
    count = session.scalar(LOANS_OF_MEDIA_TYPE, {"patron_id": patron_id, "media_type": media_type})
    return int(count or 0)


def _holds_on_record(session: Session, record_id: int) -> int:
    """Holds of any status on a title: when there are none, the hold queries can be skipped."""
    return int(session.scalar(_HOLDS_ON_RECORD, {"record_id": record_id}) or 0)


def _count(
    uow: UnitOfWork, now: dt.datetime, branch: str, item: Item, patron: Patron, event: str
) -> None:
    count_circulation(
        uow.session,
        day=local_date(now, uow.env.rules.calendar),
        branch=branch,
        media_type=item.media_type,
        category=patron.category,
        event=event,
    )


def checkout(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron_barcode: str,
    item_barcode: str,
    *,
    allow_renewal: bool = True,
    ignore_blocks: bool = False,
    due_at: dt.datetime | None = None,
) -> CheckoutResult:
    """Lend an item; an item the patron already has is renewed instead (SIP2 renewal ok).

    `ignore_blocks` and `due_at` record a loan a terminal already made while offline (SIP2 "no
    block" with its due date): the item has left the building, so the loan must exist.
    """
    actor.require(Permission.CIRCULATE)
    session, rules = uow.session, uow.env.rules
    flush_pending(session)
    fast_patron = patron_row(session, patron_barcode, now)
    fast_item = item_row(session, item_barcode)
    if fast_item.loan_id is None and fast_item.holds_on_record == 0:
        return checkout_fast(
            uow, actor, now, fast_patron, fast_item, ignore_blocks=ignore_blocks, due_at=due_at
        )
    patron = patron_by_barcode(session, patron_barcode)
    item = item_by_barcode(session, item_barcode)
    loan = session.scalars(_LOAN_OF_ITEM, {"item_id": item.id}).one_or_none()
    if loan is not None:
        if loan.patron_id != patron.id:
            raise DomainError(Reason.ITEM_NOT_AVAILABLE)
        if not allow_renewal:
            raise DomainError(Reason.RENEWAL_LIMIT)
        renewed = _renew_loan(uow, actor, now, patron, item, loan)
        return CheckoutResult(item=renewed.item, due_at=renewed.due_at, renewed=True)

    blocks = frozenset() if ignore_blocks else patron_blocks(uow, patron, now)
    rule = rules.rule_for(patron.category, item.media_type)
    # Most titles have no holds at all: one count then spares the three hold queries below.
    any_holds = _holds_on_record(session, item.record_id) > 0
    trapped = (
        session.scalars(_TRAPPED_FOR_ITEM, {"item_id": item.id}).one_or_none()
        if any_holds
        else None
    )
    hold_for_other = trapped is not None and trapped.patron_id != patron.id
    status = item.status
    if trapped is not None and not hold_for_other and status == ItemStatus.IN_TRANSIT:
        status = ItemStatus.ON_HOLD_SHELF  # the patron caught it before it reached the shelf
    refusal = (
        None
        if ignore_blocks
        else checkout_refusal(
            blocks=blocks,
            rule=rule,
            loans_of_media_type=_loans_of_media_type(session, patron.id, item.media_type),
            item_status=status,
            hold_for_other_patron=hold_for_other,
        )
    )
    if refusal is not None:
        raise DomainError(refusal)

    # The patron's own hold on this title (trapped or still waiting) is filled by the loan.
    own_hold = (
        session.scalars(
            select(Hold)
            .where(Hold.patron_id == patron.id, Hold.record_id == item.record_id)
            .where((Hold.trapped_item_id == item.id) | (Hold.trapped_item_id.is_(None)))
            .order_by(Hold.placed_at, Hold.id)
            .limit(1)
        ).one_or_none()
        if any_holds
        else None
    )
    if own_hold is not None:
        session.delete(own_hold)

    due = due_at if due_at is not None else due_date(now, rule.loan_days, rules.calendar)
    session.add(
        Loan(
            patron_id=patron.id,
            item_id=item.id,
            branch=actor.branch,
            checked_out_at=now,
            due_at=due,
            renewals=0,
        )
    )
    item.status = ItemStatus.ON_LOAN.value
    item.status_changed_at = now
    touch_patron(patron, now, uow)
    _count(uow, now, actor.branch, item, patron, "checkout")
    session.flush()
    view = item_view(session, item, due_at=due, hold_queue=None if any_holds else 0)
    return CheckoutResult(item=view, due_at=due, renewed=False)


def _trap_hold(uow: UnitOfWork, actor: Actor, now: dt.datetime, item: Item) -> Hold | None:
    """Set the item aside for the oldest hold it satisfies; the patron is never returned."""
    session = uow.session
    waiting = session.scalars(
        select(Hold).where(
            Hold.record_id == item.record_id,
            Hold.status == HoldStatus.WAITING.value,
            (Hold.item_id.is_(None)) | (Hold.item_id == item.id),
        )
    ).all()
    if not waiting:
        return None
    candidates = [
        HoldCandidate(
            hold_id=h.id,
            record_id=h.record_id,
            item_id=h.item_id,
            pickup_branch=h.pickup_branch,
            placed_at=h.placed_at,
            expires_at=h.expires_at,
        )
        for h in waiting
    ]
    chosen = hold_to_trap(item_id=item.id, record_id=item.record_id, holds=candidates, now=now)
    if chosen is None:
        return None
    hold = next(h for h in waiting if h.id == chosen.hold_id)
    hold.trapped_item_id = item.id
    _place_trapped(uow, actor, now, item, hold)
    return hold


def _place_trapped(uow: UnitOfWork, actor: Actor, now: dt.datetime, item: Item, hold: Hold) -> None:
    rules = uow.env.rules
    if hold.pickup_branch == actor.branch:
        holder_category = uow.session.scalar(
            select(Patron.category).where(Patron.id == hold.patron_id)
        )
        rule = rules.rule_for(holder_category or "", item.media_type)
        hold.status = HoldStatus.ON_SHELF.value
        hold.shelf_expires_at = add_open_days(now, rule.hold_shelf_days, rules.calendar)
        item.status = ItemStatus.ON_HOLD_SHELF.value
    else:
        hold.status = HoldStatus.IN_TRANSIT.value
        item.status = ItemStatus.IN_TRANSIT.value
    item.status_changed_at = now


def checkin(uow: UnitOfWork, actor: Actor, now: dt.datetime, item_barcode: str) -> CheckinResult:
    """Return an item: delete the loan, keep history only on opt-in, count it, route the item."""
    actor.require(Permission.CIRCULATE)
    session, rules = uow.session, uow.env.rules
    flush_pending(session)
    fast_item = item_row(session, item_barcode)
    if fast_item.holds_on_record == 0:
        return checkin_fast(uow, actor, now, fast_item)
    item = item_by_barcode(session, item_barcode)
    loan = session.scalars(_LOAN_OF_ITEM, {"item_id": item.id}).one_or_none()
    fine = 0
    if loan is not None:
        patron = session.get_one(Patron, loan.patron_id)
        rule = rules.rule_for(patron.category, item.media_type)
        fine = overdue_fine(loan.due_at, now, rule, rules.calendar)
        if fine > 0:
            session.add(
                Fee(
                    patron_id=patron.id,
                    item_id=item.id,
                    kind="overdue",
                    amount=fine,
                    balance=fine,
                    status=FeeStatus.OPEN.value,
                    created_at=now,
                )
            )
        if has_consent(session, patron.id, CHECKOUT_HISTORY):
            record = item.record
            session.add(
                ReadingHistory(
                    patron_id=patron.id,
                    record_id=record.id,
                    title=record.title,
                    author=record.author,
                    returned_on=local_date(now, rules.calendar),
                )
            )
        # PRIV-03: the loan row is the only link between patron and item, and it goes now.
        session.execute(delete(Loan).where(Loan.id == loan.id))
        touch_patron(patron, now, uow)
        _count(uow, now, actor.branch, item, patron, "checkin")

    destination: str | None = None
    # Most titles have no holds at all: one count then spares the two hold queries below.
    any_holds = _holds_on_record(session, item.record_id) > 0
    trapped = (
        session.scalars(_TRAPPED_FOR_ITEM, {"item_id": item.id}).one_or_none()
        if any_holds
        else None
    )
    if trapped is not None:
        _place_trapped(uow, actor, now, item, trapped)  # arrived (or returned again) for its hold
    elif any_holds:
        trapped = _trap_hold(uow, actor, now, item)
    if trapped is not None:
        if trapped.status == HoldStatus.IN_TRANSIT.value:
            destination = trapped.pickup_branch
    elif item.home_branch != actor.branch:
        item.status = ItemStatus.IN_TRANSIT.value
        item.status_changed_at = now
        destination = item.home_branch
    elif item.status != ItemStatus.AVAILABLE.value:
        item.status = ItemStatus.AVAILABLE.value
        item.status_changed_at = now
    session.flush()
    return CheckinResult(
        item=item_view(session, item, hold_queue=None if any_holds else 0),
        was_on_loan=loan is not None,
        fine=fine,
        hold_trapped=trapped is not None,
        destination_branch=destination,
        on_hold_shelf=item.status == ItemStatus.ON_HOLD_SHELF.value,
    )


def _holds_waiting_for(session: Session, item: Item, patron_id: int) -> bool:
    found = session.scalar(
        select(Hold.id)
        .where(
            Hold.record_id == item.record_id,
            Hold.patron_id != patron_id,
            Hold.status == HoldStatus.WAITING.value,
            (Hold.item_id.is_(None)) | (Hold.item_id == item.id),
        )
        .limit(1)
    )
    return found is not None


def _renew_loan(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron: Patron, item: Item, loan: Loan
) -> RenewResult:
    session, rules = uow.session, uow.env.rules
    rule = rules.rule_for(patron.category, item.media_type)
    refusal = renewal_refusal(
        blocks=patron_blocks(uow, patron, now),
        rule=rule,
        renewals_done=loan.renewals,
        holds_waiting=_holds_waiting_for(session, item, patron.id),
    )
    if refusal is not None:
        raise DomainError(refusal)
    loan.due_at = renewed_due_date(now, loan.due_at, rule, rules.calendar)
    loan.renewals += 1
    touch_patron(patron, now, uow)
    _count(uow, now, actor.branch, item, patron, "renew")
    session.flush()
    return RenewResult(
        item=item_view(session, item, due_at=loan.due_at),
        due_at=loan.due_at,
        renewals=loan.renewals,
    )


def renew(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    item_barcode: str,
    patron_barcode: str | None = None,
) -> RenewResult:
    """Renew one loan; with a patron barcode the loan must be that patron's."""
    actor.require(Permission.CIRCULATE)
    session = uow.session
    item = item_by_barcode(session, item_barcode)
    loan = session.scalars(_LOAN_OF_ITEM, {"item_id": item.id}).one_or_none()
    if loan is None:
        raise DomainError(Reason.ITEM_NOT_ON_LOAN)
    if patron_barcode is not None:
        patron = patron_by_barcode(session, patron_barcode)
        if loan.patron_id != patron.id:
            raise DomainError(Reason.NOT_BORROWER)
    else:
        patron = session.get_one(Patron, loan.patron_id)
    return _renew_loan(uow, actor, now, patron, item, loan)


def renew_all(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron_barcode: str
) -> RenewAllResult:
    """Renew every loan of a patron that may be renewed; report the others with their reason."""
    actor.require(Permission.CIRCULATE)
    session = uow.session
    patron = patron_by_barcode(session, patron_barcode)
    loans = session.scalars(
        select(Loan).where(Loan.patron_id == patron.id).order_by(Loan.due_at, Loan.id)
    ).all()
    renewed: list[RenewResult] = []
    unrenewed: list[tuple[str, str]] = []
    for loan in loans:
        item = session.get_one(Item, loan.item_id)
        try:
            with session.begin_nested():
                renewed.append(_renew_loan(uow, actor, now, patron, item, loan))
        except DomainError as refusal:
            unrenewed.append((item.barcode, refusal.reason.value))
    return RenewAllResult(renewed=tuple(renewed), unrenewed=tuple(unrenewed))


def cancel_checkout(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron_barcode: str, item_barcode: str
) -> None:
    """Undo a checkout the terminal could not complete (SIP2 cancel, e.g. the tag write failed)."""
    actor.require(Permission.CIRCULATE)
    session = uow.session
    patron = patron_by_barcode(session, patron_barcode)
    item = item_by_barcode(session, item_barcode)
    loan = session.scalars(_LOAN_OF_ITEM, {"item_id": item.id}).one_or_none()
    if loan is None:
        raise DomainError(Reason.ITEM_NOT_ON_LOAN)
    if loan.patron_id != patron.id:
        raise DomainError(Reason.NOT_BORROWER)
    session.execute(delete(Loan).where(Loan.id == loan.id))
    item.status = ItemStatus.AVAILABLE.value
    item.status_changed_at = now
    session.flush()
