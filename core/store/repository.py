"""The named reads and writes of every request path, as typed rows, compiled once per dialect.

Request paths read and write circulation data only through these functions. Each statement is
portable Core, compiled once per dialect and run on the driver's cursor (``Prepared``), so the
same code serves SQLCipher and PostgreSQL at the cost of the driver call alone. Rows come back
as named tuples built here; callers read them by name.

The functions keep the session's ORM state honest themselves, so callers never have to: pending
ORM changes are flushed before a statement runs (``Prepared`` does not autoflush), and the
session's copy of a row a statement changes is expired or dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    exists,
    func,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import ClauseElement, Select

from core.model import (
    Consent,
    Fee,
    FeePayment,
    FeeStatus,
    Hold,
    HoldStatus,
    Item,
    Loan,
    Patron,
    ReadingHistory,
    Record,
)
from core.model.stats import CirculationCount
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.store.engine import Prepared, Row
from core.store.uow import UnitOfWork

R = TypeVar("R")

# Fee kinds that are overdue fines (SIP2 tells fines from other fees).
FINE_KINDS = ("overdue",)


def _sync(session: Session) -> None:
    """Write pending ORM changes first: statements run here do not autoflush."""
    if session.new or session.deleted or session.dirty:
        session.flush()


def _expire(session: Session, model: type[Any], key: int) -> None:
    """Expire the session's copy of a row a statement here changed, if it holds one."""
    loaded = session.identity_map.get(identity_key(model, key))
    if loaded is not None:
        session.expire(loaded)


def _drop(session: Session, model: type[Any], key: int) -> None:
    """Drop the session's copy of a row a statement here deleted, if it holds one."""
    loaded = session.identity_map.get(identity_key(model, key))
    if loaded is not None:
        session.expunge(loaded)


class _Query(Generic[R]):
    """A SELECT whose rows become ``R`` (a named tuple built from the columns in order)."""

    def __init__(self, statement: ClauseElement, make: Callable[[Row], R]) -> None:
        self._prepared = Prepared(statement)
        self._make = make

    def all(self, uow: UnitOfWork, params: Mapping[str, Any]) -> list[R]:
        _sync(uow.session)
        make = self._make
        return [make(row) for row in self._prepared.all(uow.session, params)]

    def first(self, uow: UnitOfWork, params: Mapping[str, Any]) -> R | None:
        rows = self.all(uow, params)
        return rows[0] if rows else None


class _Command:
    """An INSERT, UPDATE or DELETE."""

    def __init__(self, statement: Any) -> None:
        self._prepared = Prepared(statement)

    def run(self, uow: UnitOfWork, params: Mapping[str, Any]) -> int:
        _sync(uow.session)
        return self._prepared.run(uow.session, params)


# ---------------------------------------------------------------------------------------------
# Patrons


class PatronRow(NamedTuple):
    """A patron's columns and every count its standing and status need."""

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
    loans: int
    overdue: int
    fees_outstanding: int  # minor units, every open fee
    fines_outstanding: int  # the part of fees_outstanding that is overdue fines
    holds: int
    holds_on_shelf: int
    open_fees: int  # number of open fee rows


def _count_columns(patron_id: Any) -> tuple[ColumnElement[Any], ...]:
    """The counts of PatronRow, as scalar subqueries correlated with ``patron_id``."""
    now = bindparam("now", type_=Loan.due_at.type)
    loans = select(func.count(Loan.id)).where(Loan.patron_id == patron_id)
    open_fees = (Fee.patron_id == patron_id) & (Fee.status == FeeStatus.OPEN.value)
    balance = select(func.coalesce(func.sum(Fee.balance), 0)).where(open_fees)
    holds = select(func.count(Hold.id)).where(Hold.patron_id == patron_id)
    return (
        loans.scalar_subquery(),
        loans.where(Loan.due_at < now).scalar_subquery(),
        balance.scalar_subquery(),
        balance.where(or_(*(Fee.kind == kind for kind in FINE_KINDS))).scalar_subquery(),
        holds.scalar_subquery(),
        holds.where(Hold.status == HoldStatus.ON_SHELF.value).scalar_subquery(),
        select(func.count(Fee.id)).where(open_fees).scalar_subquery(),
    )


def _patron_query(where: ColumnElement[bool]) -> _Query[PatronRow]:
    statement = select(
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
        *_count_columns(Patron.id),
    ).where(where)
    return _Query(statement, _patron_row)


def _patron_row(row: Row) -> PatronRow:
    # Counts of empty sets come back as None from some drivers' SUM; booleans as 0/1.
    return PatronRow._make(
        [
            *row[:9],
            bool(row[9]),
            bool(row[10]),
            bool(row[11]),
            *row[12:16],
            *(int(value or 0) for value in row[16:]),
        ]
    )


_PATRON_BY_BARCODE = _patron_query(Patron.barcode == bindparam("barcode"))
_PATRON_BY_ID = _patron_query(Patron.id == bindparam("patron_id"))


def find_patron(uow: UnitOfWork, barcode: str, now: dt.datetime) -> PatronRow | None:
    """The patron with this barcode and its counts (overdue as of ``now``), in one statement."""
    return _PATRON_BY_BARCODE.first(uow, {"barcode": barcode, "now": now})


def find_patron_by_id(uow: UnitOfWork, patron_id: int, now: dt.datetime) -> PatronRow | None:
    """As ``find_patron``, by id."""
    return _PATRON_BY_ID.first(uow, {"patron_id": patron_id, "now": now})


_TOUCH_PATRON = _Command(
    update(Patron)
    .where(Patron.id == bindparam("patron_id"), Patron.last_activity_on < bindparam("day"))
    .values(last_activity_on=bindparam("day"))
)


def touch_patron(uow: UnitOfWork, patron_id: int, day: dt.date) -> None:
    """Move the patron's last activity forward to ``day``, never back (PRIV-07: the day only)."""
    if _TOUCH_PATRON.run(uow, {"patron_id": patron_id, "day": day}):
        _expire(uow.session, Patron, patron_id)


_HAS_CONSENT = _Query(
    select(
        exists().where(
            Consent.patron_id == bindparam("patron_id"), Consent.kind == bindparam("kind")
        )
    ),
    lambda row: bool(row[0]),
)


def has_consent(uow: UnitOfWork, patron_id: int, kind: str) -> bool:
    """Whether the patron has opted in to ``kind`` (PRIV-02: absent means no)."""
    return bool(_HAS_CONSENT.first(uow, {"patron_id": patron_id, "kind": kind}))


# ---------------------------------------------------------------------------------------------
# Items


class ItemRow(NamedTuple):
    """A copy with its title, its loan, the hold it is set aside for and its hold counts.

    The ``for_patron`` fields are filled only by ``find_item_for_patron`` (else 0 / None /
    False), the ``borrower`` fields only by ``find_item_for_return`` (else None / False).
    """

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
    loan_checked_out_at: dt.datetime | None
    loan_due_at: dt.datetime | None
    loan_renewals: int
    trap_hold_id: int | None  # the hold this copy is set aside for (in transit or on the shelf)
    trap_patron_id: int | None
    trap_pickup_branch: str | None
    holds_on_record: int  # holds of any status on the title
    hold_queue: int  # holds on the title this copy could fill
    # for_patron: the patron's loans of this media type, the patron's own hold this copy fills,
    # and whether anyone else waits for a copy like this one (no renewal then).
    loans_of_media_type: int
    own_hold_id: int | None
    others_waiting: bool
    # borrower: the category and history consent of the patron who has it on loan.
    borrower_category: str | None
    borrower_last_activity_on: dt.date | None
    borrower_keeps_history: bool
    # the category of the patron the copy is set aside for (hold-shelf period).
    trap_patron_category: str | None


def _item_query(*, for_patron: bool, for_return: bool) -> _Query[ItemRow]:
    trap = aliased(Hold)
    borrower = aliased(Patron)
    holder = aliased(Patron)
    patron_id = bindparam("patron_id", type_=Loan.patron_id.type)
    could_fill = (Hold.item_id.is_(None)) | (Hold.item_id == Item.id)
    statement: Select[*tuple[Any, ...]] = (
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
            Loan.checked_out_at,
            Loan.due_at,
            Loan.renewals,
            trap.id,
            trap.patron_id,
            trap.pickup_branch,
            select(func.count(Hold.id)).where(Hold.record_id == Item.record_id).scalar_subquery(),
            select(func.count(Hold.id))
            .where(Hold.record_id == Item.record_id, could_fill)
            .scalar_subquery(),
        )
        .join(Record, Record.id == Item.record_id)
        .outerjoin(Loan, Loan.item_id == Item.id)
        .outerjoin(trap, trap.trapped_item_id == Item.id)
        .where(Item.barcode == bindparam("barcode"))
    )
    if for_patron:
        same_type = aliased(Item)
        statement = statement.add_columns(
            select(func.count(Loan.id))
            .join(same_type, same_type.id == Loan.item_id)
            .where(Loan.patron_id == patron_id, same_type.media_type == Item.media_type)
            .scalar_subquery(),
            select(Hold.id)
            .where(
                Hold.patron_id == patron_id,
                Hold.record_id == Item.record_id,
                (Hold.trapped_item_id.is_(None)) | (Hold.trapped_item_id == Item.id),
                could_fill,
            )
            .order_by(Hold.placed_at, Hold.id)
            .limit(1)
            .scalar_subquery(),
            exists().where(
                Hold.record_id == Item.record_id,
                Hold.patron_id != patron_id,
                Hold.status == HoldStatus.WAITING.value,
                could_fill,
            ),
        )
    else:
        statement = statement.add_columns(null(), null(), null())
    if for_return:
        keeps = exists().where(Consent.patron_id == borrower.id, Consent.kind == CHECKOUT_HISTORY)
        statement = statement.add_columns(
            borrower.category, borrower.last_activity_on, keeps, holder.category
        )
        statement = statement.outerjoin(borrower, borrower.id == Loan.patron_id).outerjoin(
            holder, holder.id == trap.patron_id
        )
    else:
        statement = statement.add_columns(null(), null(), null(), null())
    return _Query(statement, _item_row)


def _item_row(row: Row) -> ItemRow:
    return ItemRow._make(
        [
            *row[:17],
            int(row[17] or 0),
            *row[18:21],
            int(row[21] or 0),
            int(row[22] or 0),
            int(row[23] or 0),
            row[24],
            bool(row[25]),
            row[26],
            row[27],
            bool(row[28]),
            row[29],
        ]
    )


_ITEM = _item_query(for_patron=False, for_return=False)
_ITEM_FOR_PATRON = _item_query(for_patron=True, for_return=False)
_ITEM_FOR_RETURN = _item_query(for_patron=False, for_return=True)


def find_item(uow: UnitOfWork, barcode: str) -> ItemRow | None:
    """The copy with this barcode, its title, loan, trapping hold and hold counts."""
    return _ITEM.first(uow, {"barcode": barcode})


def find_item_for_patron(uow: UnitOfWork, barcode: str, patron_id: int | None) -> ItemRow | None:
    """``find_item`` plus what a checkout or renewal for ``patron_id`` decides on."""
    return _ITEM_FOR_PATRON.first(uow, {"barcode": barcode, "patron_id": patron_id})


def find_item_for_return(uow: UnitOfWork, barcode: str) -> ItemRow | None:
    """``find_item`` plus what a checkin decides on: the borrower's category and consent."""
    return _ITEM_FOR_RETURN.first(uow, {"barcode": barcode})


_SET_ITEM_STATUS = _Command(
    update(Item)
    .where(Item.id == bindparam("item_id"))
    .values(status=bindparam("status"), status_changed_at=bindparam("changed_at"))
)


def set_item_status(uow: UnitOfWork, item_id: int, status: str, changed_at: dt.datetime) -> None:
    """Give a copy a new circulation status."""
    _SET_ITEM_STATUS.run(uow, {"item_id": item_id, "status": status, "changed_at": changed_at})
    _expire(uow.session, Item, item_id)


_SET_ITEM_PROPERTIES = _Command(
    update(Item).where(Item.id == bindparam("item_id")).values(properties=bindparam("properties"))
)


def set_item_properties(uow: UnitOfWork, item_id: int, properties: str) -> None:
    """Store a copy's free-text properties (SIP2 CH)."""
    _SET_ITEM_PROPERTIES.run(uow, {"item_id": item_id, "properties": properties})
    _expire(uow.session, Item, item_id)


class RecordRow(NamedTuple):
    """A title."""

    id: int
    title: str


_RECORD = _Query(
    select(Record.id, Record.title).where(Record.id == bindparam("record_id")),
    RecordRow._make,
)


def find_record(uow: UnitOfWork, record_id: int) -> RecordRow | None:
    """The title with this id."""
    return _RECORD.first(uow, {"record_id": record_id})


# ---------------------------------------------------------------------------------------------
# Loans


_START_LOAN = _Command(
    insert(Loan).values(
        patron_id=bindparam("patron_id"),
        item_id=bindparam("item_id"),
        branch=bindparam("branch"),
        checked_out_at=bindparam("now"),
        due_at=bindparam("due_at"),
        renewals=0,
    )
)


def start_loan(
    uow: UnitOfWork,
    *,
    patron_id: int,
    item_id: int,
    branch: str,
    now: dt.datetime,
    due_at: dt.datetime,
) -> None:
    """Lend a copy: the loan row is the only link between patron and item (PRIV-03)."""
    _START_LOAN.run(
        uow,
        {
            "patron_id": patron_id,
            "item_id": item_id,
            "branch": branch,
            "now": now,
            "due_at": due_at,
        },
    )


_END_LOAN = _Command(delete(Loan).where(Loan.id == bindparam("loan_id")))


def end_loan(uow: UnitOfWork, loan_id: int) -> None:
    """Delete a loan: the patron-item link goes with it (PRIV-03)."""
    _END_LOAN.run(uow, {"loan_id": loan_id})
    _drop(uow.session, Loan, loan_id)


_EXTEND_LOAN = _Command(
    update(Loan)
    .where(Loan.id == bindparam("loan_id"))
    .values(due_at=bindparam("due_at"), renewals=bindparam("renewals"))
)


def extend_loan(uow: UnitOfWork, loan_id: int, due_at: dt.datetime, renewals: int) -> None:
    """Renew a loan: its new due date and renewal count."""
    _EXTEND_LOAN.run(uow, {"loan_id": loan_id, "due_at": due_at, "renewals": renewals})
    _expire(uow.session, Loan, loan_id)


class LoanRow(NamedTuple):
    """One of a patron's current loans, with what lists and renew-all show of its copy."""

    loan_id: int
    item_barcode: str
    title: str
    media_type: str
    checked_out_at: dt.datetime
    due_at: dt.datetime
    renewals: int


_LOANS_OF_PATRON = _Query(
    select(
        Loan.id,
        Item.barcode,
        Record.title,
        Item.media_type,
        Loan.checked_out_at,
        Loan.due_at,
        Loan.renewals,
    )
    .join(Item, Item.id == Loan.item_id)
    .join(Record, Record.id == Item.record_id)
    .where(Loan.patron_id == bindparam("patron_id"))
    .order_by(Loan.due_at, Loan.id),
    LoanRow._make,
)


def loans_of_patron(uow: UnitOfWork, patron_id: int) -> list[LoanRow]:
    """The patron's current loans, soonest due first."""
    return _LOANS_OF_PATRON.all(uow, {"patron_id": patron_id})


# ---------------------------------------------------------------------------------------------
# Holds


class HoldRow(NamedTuple):
    """A hold with its title and the barcode of the copy it names or is set aside for."""

    id: int
    patron_id: int
    record_id: int
    item_id: int | None
    pickup_branch: str
    placed_at: dt.datetime
    expires_at: dt.datetime | None
    status: str
    trapped_item_id: int | None
    shelf_expires_at: dt.datetime | None
    title: str
    item_barcode: str | None  # the copy set aside for it, else the copy an item-level hold names
    patron_category: str


def _hold_query(where: ColumnElement[bool], *, limit: int | None = None) -> _Query[HoldRow]:
    copy = aliased(Item)
    statement = (
        select(
            Hold.id,
            Hold.patron_id,
            Hold.record_id,
            Hold.item_id,
            Hold.pickup_branch,
            Hold.placed_at,
            Hold.expires_at,
            Hold.status,
            Hold.trapped_item_id,
            Hold.shelf_expires_at,
            Record.title,
            copy.barcode,
            Patron.category,
        )
        .join(Record, Record.id == Hold.record_id)
        .join(Patron, Patron.id == Hold.patron_id)
        .outerjoin(copy, copy.id == func.coalesce(Hold.trapped_item_id, Hold.item_id))
        .where(where)
        .order_by(Hold.placed_at, Hold.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return _Query(statement, HoldRow._make)


_HOLDS_OF_PATRON = _hold_query(Hold.patron_id == bindparam("patron_id"))
_HOLDS_ON_RECORD = _hold_query(Hold.record_id == bindparam("record_id"))
_WAITING_FOR_COPY = _hold_query(
    (Hold.record_id == bindparam("record_id"))
    & (Hold.status == HoldStatus.WAITING.value)
    & ((Hold.item_id.is_(None)) | (Hold.item_id == bindparam("item_id")))
)
_HOLD_BY_ID = _hold_query(Hold.id == bindparam("hold_id"))
_HOLD_OF_PATRON_ON_RECORD = _hold_query(
    (Hold.patron_id == bindparam("patron_id")) & (Hold.record_id == bindparam("record_id")),
    limit=1,
)


def holds_of_patron(uow: UnitOfWork, patron_id: int) -> list[HoldRow]:
    """The patron's holds, oldest first."""
    return _HOLDS_OF_PATRON.all(uow, {"patron_id": patron_id})


def holds_on_record(uow: UnitOfWork, record_id: int) -> list[HoldRow]:
    """Every hold on a title, in queue order."""
    return _HOLDS_ON_RECORD.all(uow, {"record_id": record_id})


def holds_waiting_for_copy(uow: UnitOfWork, record_id: int, item_id: int) -> list[HoldRow]:
    """The holds still waiting that this copy could fill, in queue order."""
    return _WAITING_FOR_COPY.all(uow, {"record_id": record_id, "item_id": item_id})


def find_hold(uow: UnitOfWork, hold_id: int) -> HoldRow | None:
    """The hold with this id."""
    return _HOLD_BY_ID.first(uow, {"hold_id": hold_id})


def hold_of_patron_on_record(uow: UnitOfWork, patron_id: int, record_id: int) -> HoldRow | None:
    """The patron's oldest hold on a title (a patron has at most one per title)."""
    return _HOLD_OF_PATRON_ON_RECORD.first(uow, {"patron_id": patron_id, "record_id": record_id})


_PLACE_HOLD = _Command(
    insert(Hold).values(
        patron_id=bindparam("patron_id"),
        record_id=bindparam("record_id"),
        item_id=bindparam("item_id"),
        pickup_branch=bindparam("pickup_branch"),
        placed_at=bindparam("placed_at"),
        expires_at=bindparam("expires_at"),
        status=HoldStatus.WAITING.value,
    )
)


def place_hold(
    uow: UnitOfWork,
    *,
    patron_id: int,
    record_id: int,
    item_id: int | None,
    pickup_branch: str,
    placed_at: dt.datetime,
    expires_at: dt.datetime | None,
) -> None:
    """Queue a hold (waiting)."""
    _PLACE_HOLD.run(
        uow,
        {
            "patron_id": patron_id,
            "record_id": record_id,
            "item_id": item_id,
            "pickup_branch": pickup_branch,
            "placed_at": placed_at,
            "expires_at": expires_at,
        },
    )


_TRAP_HOLD = _Command(
    update(Hold)
    .where(Hold.id == bindparam("hold_id"))
    .values(
        trapped_item_id=bindparam("item_id"),
        status=bindparam("status"),
        shelf_expires_at=bindparam("shelf_expires_at"),
    )
)


def trap_hold(
    uow: UnitOfWork,
    hold_id: int,
    item_id: int,
    status: str,
    shelf_expires_at: dt.datetime | None,
) -> None:
    """Set a copy aside for a hold: in transit to its pickup branch, or on the shelf there."""
    _TRAP_HOLD.run(
        uow,
        {
            "hold_id": hold_id,
            "item_id": item_id,
            "status": status,
            "shelf_expires_at": shelf_expires_at,
        },
    )
    _expire(uow.session, Hold, hold_id)


_CHANGE_HOLD = _Command(
    update(Hold)
    .where(Hold.id == bindparam("hold_id"))
    .values(pickup_branch=bindparam("pickup_branch"), expires_at=bindparam("expires_at"))
)


def change_hold(
    uow: UnitOfWork, hold_id: int, pickup_branch: str, expires_at: dt.datetime | None
) -> None:
    """Change a hold's pickup branch and expiry."""
    _CHANGE_HOLD.run(
        uow, {"hold_id": hold_id, "pickup_branch": pickup_branch, "expires_at": expires_at}
    )
    _expire(uow.session, Hold, hold_id)


_END_HOLD = _Command(delete(Hold).where(Hold.id == bindparam("hold_id")))


def end_hold(uow: UnitOfWork, hold_id: int) -> None:
    """Delete a hold that was filled or cancelled (its patron-title link goes with it)."""
    _END_HOLD.run(uow, {"hold_id": hold_id})
    _drop(uow.session, Hold, hold_id)


_LOAN_OF_PATRON_ON_RECORD = _Query(
    select(
        exists()
        .where(Loan.patron_id == bindparam("patron_id"))
        .where(Item.id == Loan.item_id, Item.record_id == bindparam("record_id"))
    ),
    lambda row: bool(row[0]),
)


def has_loan_of_record(uow: UnitOfWork, patron_id: int, record_id: int) -> bool:
    """Whether the patron has a copy of this title on loan."""
    return bool(
        _LOAN_OF_PATRON_ON_RECORD.first(uow, {"patron_id": patron_id, "record_id": record_id})
    )


# ---------------------------------------------------------------------------------------------
# Fees


_CHARGE = _Command(
    insert(Fee).values(
        patron_id=bindparam("patron_id"),
        item_id=bindparam("item_id"),
        kind=bindparam("kind"),
        amount=bindparam("amount"),
        balance=bindparam("amount"),
        status=FeeStatus.OPEN.value,
        created_at=bindparam("charged_at"),
    )
)


def charge_overdue(
    uow: UnitOfWork, *, patron_id: int, item_id: int, amount: int, charged_at: dt.datetime
) -> None:
    """Charge an overdue fine: its own record, so it never keeps a loan alive (PRIV-03)."""
    _CHARGE.run(
        uow,
        {
            "patron_id": patron_id,
            "item_id": item_id,
            "kind": "overdue",
            "amount": amount,
            "charged_at": charged_at,
        },
    )


class FeeRow(NamedTuple):
    """An open fee, with the title of its item while it names one."""

    id: int
    kind: str
    amount: int
    balance: int
    status: str
    created_at: dt.datetime
    title: str | None


def _open_fees_query(where: ColumnElement[bool]) -> _Query[FeeRow]:
    return _Query(
        select(Fee.id, Fee.kind, Fee.amount, Fee.balance, Fee.status, Fee.created_at, Record.title)
        .outerjoin(Item, Item.id == Fee.item_id)
        .outerjoin(Record, Record.id == Item.record_id)
        .where(Fee.patron_id == bindparam("patron_id"), Fee.status == FeeStatus.OPEN.value)
        .where(where)
        .order_by(Fee.created_at, Fee.id),
        FeeRow._make,
    )


_OPEN_FEES = _open_fees_query(Fee.id.is_not(None))
_OPEN_FEE = _open_fees_query(Fee.id == bindparam("fee_id"))


def open_fees(uow: UnitOfWork, patron_id: int, fee_id: int | None = None) -> list[FeeRow]:
    """The patron's open fees, oldest first; with ``fee_id`` only that one (if open)."""
    if fee_id is None:
        return _OPEN_FEES.all(uow, {"patron_id": patron_id})
    return _OPEN_FEE.all(uow, {"patron_id": patron_id, "fee_id": fee_id})


_PAY = _Command(
    insert(FeePayment).values(
        fee_id=bindparam("fee_id"),
        amount=bindparam("amount"),
        method=bindparam("method"),
        transaction_id=bindparam("transaction_id"),
        paid_at=bindparam("paid_at"),
    )
)
_REDUCE = _Command(
    update(Fee).where(Fee.id == bindparam("fee_id")).values(balance=bindparam("balance"))
)
_SETTLE = _Command(
    update(Fee)
    .where(Fee.id == bindparam("fee_id"))
    .values(
        balance=0,
        status=bindparam("status"),
        settled_at=bindparam("settled_at"),
        item_id=None,  # PRIV-03: the retained record of a settled fee names no item
    )
)


def record_payment(
    uow: UnitOfWork,
    *,
    fee_id: int,
    amount: int,
    balance: int,
    method: str,
    transaction_id: str | None,
    paid_at: dt.datetime,
    settled_status: str | None,
) -> None:
    """Book a payment (or waiver) against a fee; ``settled_status`` settles it at balance 0."""
    _PAY.run(
        uow,
        {
            "fee_id": fee_id,
            "amount": amount,
            "method": method,
            "transaction_id": transaction_id,
            "paid_at": paid_at,
        },
    )
    if settled_status is None:
        _REDUCE.run(uow, {"fee_id": fee_id, "balance": balance})
    else:
        _SETTLE.run(uow, {"fee_id": fee_id, "status": settled_status, "settled_at": paid_at})
    _expire(uow.session, Fee, fee_id)


# ---------------------------------------------------------------------------------------------
# Reading history and statistics


_REMEMBER = _Command(
    insert(ReadingHistory).values(
        patron_id=bindparam("patron_id"),
        record_id=bindparam("record_id"),
        title=bindparam("title"),
        author=bindparam("author"),
        returned_on=bindparam("day"),
    )
)


def remember_reading(
    uow: UnitOfWork, *, patron_id: int, record_id: int, title: str, author: str, day: dt.date
) -> None:
    """Keep a returned title in the reading history; callers check the consent (PRIV-02/03)."""
    _REMEMBER.run(
        uow,
        {
            "patron_id": patron_id,
            "record_id": record_id,
            "title": title,
            "author": author,
            "day": day,
        },
    )


_COUNT_KEY = (
    (CirculationCount.day == bindparam("day"))
    & (CirculationCount.branch == bindparam("branch"))
    & (CirculationCount.media_type == bindparam("media_type"))
    & (CirculationCount.patron_category == bindparam("category"))
    & (CirculationCount.event == bindparam("event"))
)
_ADD_ONE = _Command(
    update(CirculationCount).where(_COUNT_KEY).values(count=CirculationCount.count + 1)
)
_FIRST_ONE = _Command(
    insert(CirculationCount).values(
        day=bindparam("day"),
        branch=bindparam("branch"),
        media_type=bindparam("media_type"),
        patron_category=bindparam("category"),
        event=bindparam("event"),
        count=1,
    )
)


def count_event(
    uow: UnitOfWork, *, day: dt.date, branch: str, media_type: str, category: str, event: str
) -> None:
    """Add one to an anonymous day counter: no patron, no item, no time of day (PRIV-03).

    The day's row exists for all but the first event of its kind: one UPDATE, usually.
    """
    key = {
        "day": day,
        "branch": branch,
        "media_type": media_type,
        "category": category,
        "event": event,
    }
    if _ADD_ONE.run(uow, key) == 0:
        _FIRST_ONE.run(uow, key)
