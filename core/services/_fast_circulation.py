"""The common checkout and checkin in prepared statements: no hold on the title, no renewal.

Anything else takes the ORM path in `core.services.circulation`; both keep PRIV-03 (the loan row
is the only patron-item link, history only on opt-in, anonymous counters always).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm.util import identity_key

from core.errors import DomainError
from core.model import Consent, Fee, FeeStatus, Item, ItemStatus, Loan, Patron, ReadingHistory
from core.model.stats import CirculationCount
from core.policy.blocks import blocks_for
from core.policy.calendar import due_date, local_date
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.policy.fines import overdue_fine
from core.policy.loans import checkout_refusal
from core.services._queries import ItemRow, PatronRow, forget, standing_of
from core.services.actors import Actor
from core.services.stats import count_circulation
from core.services.views import CheckinResult, CheckoutResult
from core.store.engine import Prepared
from core.store.uow import UnitOfWork

LOANS_OF_MEDIA_TYPE = (
    select(func.count(Loan.id))
    .join(Item, Item.id == Loan.item_id)
    .where(Loan.patron_id == bindparam("patron_id"), Item.media_type == bindparam("media_type"))
)

# The common checkout and checkin (no hold on the title, no loan to renew) in prepared
# statements, without ORM objects or a flush; anything else takes the ORM path below.
_INSERT_LOAN = Prepared(
    insert(Loan).values(
        patron_id=bindparam("patron_id"),
        item_id=bindparam("item_id"),
        branch=bindparam("branch"),
        checked_out_at=bindparam("now"),
        due_at=bindparam("due_at"),
        renewals=0,
    )
)
_SET_ITEM_STATUS = Prepared(
    update(Item)
    .where(Item.id == bindparam("item_id"))
    .values(status=bindparam("status"), status_changed_at=bindparam("now"))
)
_TOUCH_PATRON = Prepared(
    update(Patron)
    .where(Patron.id == bindparam("patron_id"))
    .values(last_activity_on=bindparam("today"))
)
_DELETE_LOAN = Prepared(delete(Loan).where(Loan.id == bindparam("loan_id")))
_INSERT_FINE = Prepared(
    insert(Fee).values(
        patron_id=bindparam("patron_id"),
        item_id=bindparam("item_id"),
        kind="overdue",
        amount=bindparam("fine"),
        balance=bindparam("fine"),
        status=FeeStatus.OPEN.value,
        created_at=bindparam("now"),
    )
)
_INSERT_HISTORY = Prepared(
    insert(ReadingHistory).values(
        patron_id=bindparam("patron_id"),
        record_id=bindparam("record_id"),
        title=bindparam("title"),
        author=bindparam("author"),
        returned_on=bindparam("today"),
    )
)
_BORROWER = Prepared(
    select(
        Patron.category,
        Patron.last_activity_on,
        select(Consent.id)
        .where(Consent.patron_id == Patron.id, Consent.kind == CHECKOUT_HISTORY)
        .exists(),
    ).where(Patron.id == bindparam("patron_id"))
)
LOANS_OF_MEDIA_TYPE_FAST = Prepared(LOANS_OF_MEDIA_TYPE)
_ADD_ONE = Prepared(
    update(CirculationCount)
    .where(
        CirculationCount.day == bindparam("day"),
        CirculationCount.branch == bindparam("branch"),
        CirculationCount.media_type == bindparam("media_type"),
        CirculationCount.patron_category == bindparam("category"),
        CirculationCount.event == bindparam("event"),
    )
    .values(count=CirculationCount.count + 1)
)


def _count_fast(
    uow: UnitOfWork, now: dt.datetime, branch: str, media_type: str, category: str, event: str
) -> None:
    """``count_circulation``: one prepared UPDATE; the first event of a day inserts its row."""
    day = local_date(now, uow.env.rules.calendar)
    key = {"day": day, "branch": branch, "media_type": media_type, "category": category}
    if _ADD_ONE.run(uow.session, {**key, "event": event}) == 0:
        count_circulation(
            uow.session,
            day=day,
            branch=branch,
            media_type=media_type,
            category=category,
            event=event,
        )


def _touch_fast(uow: UnitOfWork, now: dt.datetime, patron_id: int, last: dt.date) -> None:
    """``touch_patron`` for a patron read without the ORM (PRIV-07: the day only)."""
    today = local_date(now, uow.env.rules.calendar)
    if last != today:
        _TOUCH_PATRON.run(uow.session, {"patron_id": patron_id, "today": today})
        forget(uow.session, Patron, patron_id)


def checkout_fast(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron: PatronRow,
    item: ItemRow,
    *,
    ignore_blocks: bool,
    due_at: dt.datetime | None,
) -> CheckoutResult:
    """A checkout of an item that is not on loan, of a title nobody holds (the common case)."""
    session, rules = uow.session, uow.env.rules
    rule = rules.rule_for(patron.category, item.media_type)
    if not ignore_blocks:
        today = local_date(now, rules.calendar)
        loans = LOANS_OF_MEDIA_TYPE_FAST.first(
            session, {"patron_id": patron.id, "media_type": item.media_type}
        )
        refusal = checkout_refusal(
            blocks=blocks_for(standing_of(patron), rules.limits, today),
            rule=rule,
            loans_of_media_type=int((loans or (0,))[0] or 0),
            item_status=item.status,
            hold_for_other_patron=False,
        )
        if refusal is not None:
            raise DomainError(refusal)
    due = due_at if due_at is not None else due_date(now, rule.loan_days, rules.calendar)
    _INSERT_LOAN.run(
        session,
        {
            "patron_id": patron.id,
            "item_id": item.id,
            "branch": actor.branch,
            "now": now,
            "due_at": due,
        },
    )
    status = ItemStatus.ON_LOAN.value
    _SET_ITEM_STATUS.run(session, {"item_id": item.id, "status": status, "now": now})
    forget(session, Item, item.id)
    _touch_fast(uow, now, patron.id, patron.last_activity_on)
    _count_fast(uow, now, actor.branch, item.media_type, patron.category, "checkout")
    return CheckoutResult(item=item.view(status=status, due_at=due), due_at=due, renewed=False)


def checkin_fast(uow: UnitOfWork, actor: Actor, now: dt.datetime, item: ItemRow) -> CheckinResult:
    """A checkin of an item of a title nobody holds (the common case)."""
    session, rules = uow.session, uow.env.rules
    fine = 0
    if item.loan_id is not None and item.loan_patron_id is not None:
        patron_id = item.loan_patron_id
        borrower = _BORROWER.first(session, {"patron_id": patron_id})
        assert borrower is not None  # a loan's patron exists (foreign key)
        category, last_activity, keeps_history = borrower
        rule = rules.rule_for(category, item.media_type)
        assert item.loan_due_at is not None
        fine = overdue_fine(item.loan_due_at, now, rule, rules.calendar)
        if fine > 0:
            _INSERT_FINE.run(
                session, {"patron_id": patron_id, "item_id": item.id, "fine": fine, "now": now}
            )
        if keeps_history:  # PRIV-02/03: only on opt-in
            _INSERT_HISTORY.run(
                session,
                {
                    "patron_id": patron_id,
                    "record_id": item.record_id,
                    "title": item.title,
                    "author": item.author,
                    "today": local_date(now, rules.calendar),
                },
            )
        # PRIV-03: the loan row is the only link between patron and item, and it goes now.
        _DELETE_LOAN.run(session, {"loan_id": item.loan_id})
        loaded = session.identity_map.get(identity_key(Loan, item.loan_id))
        if loaded is not None:
            session.expunge(loaded)
        _touch_fast(uow, now, patron_id, last_activity)
        _count_fast(uow, now, actor.branch, item.media_type, category, "checkin")
    destination: str | None = None
    status = item.status
    if item.home_branch != actor.branch:
        status, destination = ItemStatus.IN_TRANSIT.value, item.home_branch
    elif status != ItemStatus.AVAILABLE.value:
        status = ItemStatus.AVAILABLE.value
    if status != item.status or destination is not None:
        _SET_ITEM_STATUS.run(session, {"item_id": item.id, "status": status, "now": now})
        forget(session, Item, item.id)
    return CheckinResult(
        item=item.view(status=status),
        was_on_loan=item.loan_id is not None,
        fine=fine,
        hold_trapped=False,
        destination_branch=destination,
        on_hold_shelf=False,
    )
