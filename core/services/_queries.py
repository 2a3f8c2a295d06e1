"""Shared lookups and the patron standing that several services compute the same way."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BindParameter, Select, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from core.errors import NotFound
from core.model import Consent, Fee, FeeStatus, Hold, HoldStatus, Item, Loan, Patron, Record
from core.policy.blocks import Block, PatronStanding, blocks_for, status_flags
from core.policy.calendar import local_date
from core.policy.reasons import Reason
from core.services.views import ItemView, PatronView
from core.store.uow import UnitOfWork

FINE_KINDS = ("overdue",)

# The lookups of every SIP2 request, built once: SQLAlchemy then reuses their cache keys and
# compiled forms, which costs about half of building the statement anew on each call.
_PATRON_BY_BARCODE = select(Patron).where(Patron.barcode == bindparam("barcode"))
# The record comes in the same query: every caller shows or counts by its title.
_ITEM_BY_BARCODE = (
    select(Item).options(joinedload(Item.record)).where(Item.barcode == bindparam("barcode"))
)
_HAS_CONSENT = select(Consent.id).where(
    Consent.patron_id == bindparam("patron_id"), Consent.kind == bindparam("kind")
)
_HOLD_QUEUE = select(func.count(Hold.id)).where(
    Hold.record_id == bindparam("record_id"),
    (Hold.item_id.is_(None)) | (Hold.item_id == bindparam("item_id")),
)
_DUE_AT = select(Loan.due_at).where(Loan.item_id == bindparam("item_id"))


def _patron_counts() -> Select[int, int, int, int, int, int]:
    patron_id: BindParameter[int] = bindparam("patron_id")
    now: BindParameter[dt.datetime] = bindparam("now")
    loans = select(Loan).where(Loan.patron_id == patron_id)
    fees = select(Fee).where(Fee.patron_id == patron_id, Fee.status == FeeStatus.OPEN.value)
    holds = select(Hold).where(Hold.patron_id == patron_id)
    return select(
        loans.with_only_columns(func.count(Loan.id)).scalar_subquery(),
        loans.with_only_columns(func.count(Loan.id)).where(Loan.due_at < now).scalar_subquery(),
        fees.with_only_columns(func.coalesce(func.sum(Fee.balance), 0)).scalar_subquery(),
        fees.with_only_columns(func.coalesce(func.sum(Fee.balance), 0))
        .where(Fee.kind.in_(FINE_KINDS))
        .scalar_subquery(),
        holds.with_only_columns(func.count(Hold.id)).scalar_subquery(),
        holds.with_only_columns(func.count(Hold.id))
        .where(Hold.status == HoldStatus.ON_SHELF.value)
        .scalar_subquery(),
    )


_PATRON_COUNTS = _patron_counts()


def patron_by_barcode(session: Session, barcode: str) -> Patron:
    patron = session.scalars(_PATRON_BY_BARCODE, {"barcode": barcode}).one_or_none()
    if patron is None:
        raise NotFound(Reason.PATRON_NOT_FOUND)
    return patron


def item_by_barcode(session: Session, barcode: str) -> Item:
    item = session.scalars(_ITEM_BY_BARCODE, {"barcode": barcode}).one_or_none()
    if item is None:
        raise NotFound(Reason.ITEM_NOT_FOUND)
    return item


def has_consent(session: Session, patron_id: int, kind: str) -> bool:
    """Whether the patron has opted in to `kind` (PRIV-02: absent means no)."""
    found = session.scalar(_HAS_CONSENT, {"patron_id": patron_id, "kind": kind})
    return found is not None


def _counts(session: Session, patron_id: int, now: dt.datetime) -> tuple[int, ...]:
    """Loans, overdue loans, open fees, open fines, holds, holds on the shelf: one statement.

    One round trip instead of three: this runs for every patron lookup and every checkout.
    """
    row = session.execute(_PATRON_COUNTS, {"patron_id": patron_id, "now": now}).one()
    return tuple(int(value or 0) for value in row)


def _standing(patron: Patron, counts: tuple[int, ...]) -> PatronStanding:
    return PatronStanding(
        expires_on=patron.expires_on,
        card_lost=patron.card_lost,
        staff_blocked=patron.staff_block is not None,
        loans=counts[0],
        overdue=counts[1],
        fees_outstanding=counts[2],
        overdue_fines_outstanding=counts[3],
    )


def standing(session: Session, patron: Patron, now: dt.datetime) -> PatronStanding:
    return _standing(patron, _counts(session, patron.id, now))


def patron_blocks(uow: UnitOfWork, patron: Patron, now: dt.datetime) -> frozenset[Block]:
    rules = uow.env.rules
    return blocks_for(
        standing(uow.session, patron, now), rules.limits, local_date(now, rules.calendar)
    )


def patron_view(uow: UnitOfWork, patron: Patron, now: dt.datetime) -> PatronView:
    session, rules = uow.session, uow.env.rules
    counts = _counts(session, patron.id, now)
    facts = _standing(patron, counts)
    today = local_date(now, rules.calendar)
    blocks = blocks_for(facts, rules.limits, today)
    holds, available = counts[4], counts[5]
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
        holds=holds,
        holds_available=available,
        fees_outstanding=facts.fees_outstanding,
        blocks=blocks,
        flags=status_flags(blocks, facts, limits=rules.limits),
    )


def hold_queue_length(session: Session, item: Item) -> int:
    count = session.scalar(_HOLD_QUEUE, {"record_id": item.record_id, "item_id": item.id})
    return int(count or 0)


def item_view(
    session: Session,
    item: Item,
    *,
    due_at: dt.datetime | None = None,
    hold_queue: int | None = None,
) -> ItemView:
    """What may be shown of a copy; ``hold_queue`` when the caller has counted it already."""
    record = session.get_one(Record, item.record_id)  # loaded already by item_by_barcode
    if hold_queue is None:
        hold_queue = hold_queue_length(session, item)
    if due_at is None and item.status == "on_loan":
        due_at = session.scalar(_DUE_AT, {"item_id": item.id})
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
        hold_queue_length=hold_queue,
        properties=item.properties,
        rfid_tag=item.rfid_tag,
    )


def touch_patron(patron: Patron, now: dt.datetime, uow: UnitOfWork) -> None:
    """Record activity by day only, for the inactive-account retention rule (PRIV-07)."""
    today = local_date(now, uow.env.rules.calendar)
    if patron.last_activity_on != today:
        patron.last_activity_on = today
