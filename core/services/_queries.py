"""Shared lookups and the patron standing that several services compute the same way."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.model import Consent, Fee, FeeStatus, Hold, HoldStatus, Item, Loan, Patron, Record
from core.policy.blocks import Block, PatronStanding, blocks_for, status_flags
from core.policy.calendar import local_date
from core.policy.reasons import Reason
from core.services.views import ItemView, PatronView
from core.store.uow import UnitOfWork

FINE_KINDS = ("overdue",)


def patron_by_barcode(session: Session, barcode: str) -> Patron:
    patron = session.scalars(select(Patron).where(Patron.barcode == barcode)).one_or_none()
    if patron is None:
        raise NotFound(Reason.PATRON_NOT_FOUND)
    return patron


def item_by_barcode(session: Session, barcode: str) -> Item:
    item = session.scalars(select(Item).where(Item.barcode == barcode)).one_or_none()
    if item is None:
        raise NotFound(Reason.ITEM_NOT_FOUND)
    return item


def has_consent(session: Session, patron_id: int, kind: str) -> bool:
    """Whether the patron has opted in to `kind` (PRIV-02: absent means no)."""
    found = session.scalar(
        select(Consent.id).where(Consent.patron_id == patron_id, Consent.kind == kind)
    )
    return found is not None


def standing(session: Session, patron: Patron, now: dt.datetime) -> PatronStanding:
    loans, overdue = session.execute(
        select(
            func.count(Loan.id),
            func.coalesce(func.sum(case((Loan.due_at < now, 1), else_=0)), 0),
        ).where(Loan.patron_id == patron.id)
    ).one()
    fees, fines = session.execute(
        select(
            func.coalesce(func.sum(Fee.balance), 0),
            func.coalesce(func.sum(case((Fee.kind.in_(FINE_KINDS), Fee.balance), else_=0)), 0),
        ).where(Fee.patron_id == patron.id, Fee.status == FeeStatus.OPEN.value)
    ).one()
    return PatronStanding(
        expires_on=patron.expires_on,
        card_lost=patron.card_lost,
        staff_blocked=patron.staff_block is not None,
        loans=int(loans),
        overdue=int(overdue),
        fees_outstanding=int(fees),
        overdue_fines_outstanding=int(fines),
    )


def patron_blocks(uow: UnitOfWork, patron: Patron, now: dt.datetime) -> frozenset[Block]:
    rules = uow.env.rules
    return blocks_for(
        standing(uow.session, patron, now), rules.limits, local_date(now, rules.calendar)
    )


def patron_view(uow: UnitOfWork, patron: Patron, now: dt.datetime) -> PatronView:
    session, rules = uow.session, uow.env.rules
    facts = standing(session, patron, now)
    today = local_date(now, rules.calendar)
    blocks = blocks_for(facts, rules.limits, today)
    holds, available = session.execute(
        select(
            func.count(Hold.id),
            func.coalesce(
                func.sum(case((Hold.status == HoldStatus.ON_SHELF.value, 1), else_=0)), 0
            ),
        ).where(Hold.patron_id == patron.id)
    ).one()
    note = patron.note
    if patron.note_expires_on is not None and patron.note_expires_on < today:
        note = None  # PRIV-06: an expired note is not shown (and is purged)
    return PatronView(
        patron_id=patron.id,
        barcode=patron.barcode,
        given_name=patron.given_name,
        family_name=patron.family_name,
        category=patron.category,
        home_branch=patron.home_branch,
        expires_on=patron.expires_on,
        email=patron.email,
        phone=patron.phone,
        is_minor=patron.is_minor,
        has_pin=patron.pin_hash is not None,
        card_lost=patron.card_lost,
        staff_block=patron.staff_block,
        note=note,
        loans=facts.loans,
        overdue=facts.overdue,
        holds=int(holds),
        holds_available=int(available),
        fees_outstanding=facts.fees_outstanding,
        blocks=blocks,
        flags=status_flags(blocks, facts, limits=rules.limits),
    )


def hold_queue_length(session: Session, item: Item) -> int:
    count = session.scalar(
        select(func.count(Hold.id)).where(
            Hold.record_id == item.record_id,
            (Hold.item_id.is_(None)) | (Hold.item_id == item.id),
        )
    )
    return int(count or 0)


def item_view(session: Session, item: Item, *, due_at: dt.datetime | None = None) -> ItemView:
    record: Record = item.record
    if due_at is None and item.status == "on_loan":
        due_at = session.scalar(select(Loan.due_at).where(Loan.item_id == item.id))
    return ItemView(
        barcode=item.barcode,
        title=record.title,
        author=record.author,
        isbn=record.isbn,
        call_number=item.call_number,
        media_type=item.media_type,
        home_branch=item.home_branch,
        location=item.location,
        status=item.status,
        due_at=due_at,
        hold_queue_length=hold_queue_length(session, item),
        properties=item.properties,
        rfid_tag=item.rfid_tag,
    )


def touch_patron(patron: Patron, now: dt.datetime, uow: UnitOfWork) -> None:
    """Record activity by day only, for the inactive-account retention rule (PRIV-07)."""
    today = local_date(now, uow.env.rules.calendar)
    if patron.last_activity_on != today:
        patron.last_activity_on = today
