"""Shared lookups and the patron standing that several services compute the same way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.util import identity_key

from core.errors import NotFound
from core.model import Consent, Fee, FeeStatus, Hold, HoldStatus, Item, Loan, Patron, Record
from core.policy.blocks import Block, PatronStanding, blocks_for, status_flags
from core.policy.calendar import local_date
from core.policy.reasons import Reason
from core.services.views import ItemView, PatronView
from core.store.engine import Prepared, Row
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
    return select(*_count_columns(patron_id))


def _count_columns(patron_id: BindParameter[int] | Any) -> tuple[Any, ...]:
    """Loans, overdue loans, open fees, open fines, holds, holds on the shelf, open fee rows."""
    now: BindParameter[dt.datetime] = bindparam("now")
    loans = select(Loan).where(Loan.patron_id == patron_id)
    fees = select(Fee).where(Fee.patron_id == patron_id, Fee.status == FeeStatus.OPEN.value)
    holds = select(Hold).where(Hold.patron_id == patron_id)
    return (
        loans.with_only_columns(func.count(Loan.id)).scalar_subquery(),
        loans.with_only_columns(func.count(Loan.id)).where(Loan.due_at < now).scalar_subquery(),
        fees.with_only_columns(func.coalesce(func.sum(Fee.balance), 0)).scalar_subquery(),
        fees.with_only_columns(func.coalesce(func.sum(Fee.balance), 0))
        .where(or_(*(Fee.kind == kind for kind in FINE_KINDS)))  # no IN: see Prepared
        .scalar_subquery(),
        holds.with_only_columns(func.count(Hold.id)).scalar_subquery(),
        holds.with_only_columns(func.count(Hold.id))
        .where(Hold.status == HoldStatus.ON_SHELF.value)
        .scalar_subquery(),
        fees.with_only_columns(func.count(Fee.id)).scalar_subquery(),
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


def _standing(patron: Patron | PatronRow, counts: tuple[int, ...]) -> PatronStanding:
    return PatronStanding(
        expires_on=patron.expires_on,
        card_lost=patron.card_lost,
        staff_blocked=patron.staff_block is not None,
        loans=counts[0],
        overdue=counts[1],
        fees_outstanding=counts[2],
        overdue_fines_outstanding=counts[3],
    )


def standing_of(patron: PatronRow) -> PatronStanding:
    """The standing of a patron read with ``patron_row``."""
    return _standing(patron, patron.counts)


def standing(session: Session, patron: Patron, now: dt.datetime) -> PatronStanding:
    return _standing(patron, _counts(session, patron.id, now))


@dataclass(frozen=True)
class PatronRow:
    """A patron's columns and counts, read in one prepared statement (no ORM object)."""

    id: int
    barcode: str
    given_name: str
    family_name: str
    category: str
    home_branch: str
    expires_on: dt.date
    email: str | None
    phone: str | None
    is_minor: bool
    has_pin: bool
    card_lost: bool
    staff_block: str | None
    note: str | None
    note_expires_on: dt.date | None
    last_activity_on: dt.date
    counts: tuple[int, ...]  # as _counts, then the number of open fees

    @classmethod
    def of(cls, row: Row) -> PatronRow:
        counts = tuple(int(value or 0) for value in row[16:])
        return cls(*[*row[:16], counts])


_PATRON_COLUMNS = (
    Patron.id,
    Patron.barcode,
    Patron.given_name,
    Patron.family_name,
    Patron.category,
    Patron.home_branch,
    Patron.expires_on,
    Patron.email,
    Patron.phone,
    Patron.is_minor,
    Patron.pin_hash.is_not(None),
    Patron.card_lost,
    Patron.staff_block,
    Patron.note,
    Patron.note_expires_on,
    Patron.last_activity_on,
)
# The patron and every count its standing needs, in one statement (correlated subqueries).
_PATRON_ROW_BY_BARCODE = Prepared(
    select(*_PATRON_COLUMNS, *_count_columns(Patron.id)).where(
        Patron.barcode == bindparam("barcode")
    )
)


def patron_row(session: Session, barcode: str, now: dt.datetime) -> PatronRow:
    """The patron with this barcode and its counts, or NotFound; see ``Prepared``."""
    row = _PATRON_ROW_BY_BARCODE.first(session, {"barcode": barcode, "now": now})
    if row is None:
        raise NotFound(Reason.PATRON_NOT_FOUND)
    return PatronRow.of(row)


def patron_blocks(uow: UnitOfWork, patron: Patron, now: dt.datetime) -> frozenset[Block]:
    rules = uow.env.rules
    return blocks_for(
        standing(uow.session, patron, now), rules.limits, local_date(now, rules.calendar)
    )


def patron_view(uow: UnitOfWork, patron: Patron, now: dt.datetime) -> PatronView:
    return _patron_view(uow, patron, _counts(uow.session, patron.id, now), now)


def patron_row_view(uow: UnitOfWork, patron: PatronRow, now: dt.datetime) -> PatronView:
    """``patron_view`` of a patron read with ``patron_row``."""
    return _patron_view(uow, patron, patron.counts, now)


def _patron_view(
    uow: UnitOfWork, patron: Patron | PatronRow, counts: tuple[int, ...], now: dt.datetime
) -> PatronView:
    rules = uow.env.rules
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
        has_pin=patron.has_pin if isinstance(patron, PatronRow) else patron.pin_hash is not None,
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


@dataclass(frozen=True)
class ItemRow:
    """An item with its title, its loan (if any) and its hold counts, from one statement."""

    id: int
    record_id: int
    barcode: str
    call_number: str
    media_type: str
    home_branch: str
    location: str
    status: str
    properties: str
    rfid_tag: str | None
    title: str
    author: str
    isbn: str
    loan_id: int | None
    loan_patron_id: int | None
    loan_due_at: dt.datetime | None
    holds_on_record: int  # holds of any status on the title
    hold_queue: int  # as hold_queue_length

    def view(self, *, status: str | None = None, due_at: dt.datetime | None = None) -> ItemView:
        """As ``item_view``: the due date only while the item is on loan."""
        status = self.status if status is None else status
        if due_at is None and status == "on_loan":
            due_at = self.loan_due_at
        return ItemView(
            barcode=self.barcode,
            title=self.title,
            author=self.author,
            isbn=self.isbn,
            call_number=self.call_number,
            media_type=self.media_type,
            home_branch=self.home_branch,
            location=self.location,
            status=status,
            due_at=due_at,
            hold_queue_length=self.hold_queue,
            properties=self.properties,
            rfid_tag=self.rfid_tag,
        )


_ITEM_ROW_BY_BARCODE = Prepared(
    select(
        Item.id,
        Item.record_id,
        Item.barcode,
        Item.call_number,
        Item.media_type,
        Item.home_branch,
        Item.location,
        Item.status,
        Item.properties,
        Item.rfid_tag,
        Record.title,
        Record.author,
        Record.isbn,
        Loan.id,
        Loan.patron_id,
        Loan.due_at,
        select(func.count(Hold.id)).where(Hold.record_id == Item.record_id).scalar_subquery(),
        select(func.count(Hold.id))
        .where(
            Hold.record_id == Item.record_id,
            (Hold.item_id.is_(None)) | (Hold.item_id == Item.id),
        )
        .scalar_subquery(),
    )
    .join(Record, Record.id == Item.record_id)
    .outerjoin(Loan, Loan.item_id == Item.id)
    .where(Item.barcode == bindparam("barcode"))
)


def item_row(session: Session, barcode: str) -> ItemRow:
    """The item with this barcode, its title, loan and hold counts, or NotFound."""
    row = _ITEM_ROW_BY_BARCODE.first(session, {"barcode": barcode})
    if row is None:
        raise NotFound(Reason.ITEM_NOT_FOUND)
    return ItemRow(*[*row[:16], int(row[16] or 0), int(row[17] or 0)])


def flush_pending(session: Session) -> None:
    """Write pending ORM changes first: prepared statements do not autoflush."""
    if session.new or session.dirty or session.deleted:
        session.flush()


def forget(session: Session, model: type[Any], key: int | None) -> None:
    """Expire the session's copy of a row a prepared statement changed, if it has one."""
    if key is None:
        return
    loaded = session.identity_map.get(identity_key(model, key))
    if loaded is not None:
        session.expire(loaded)
