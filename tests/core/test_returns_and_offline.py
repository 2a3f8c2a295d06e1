"""Back-dated returns stay within the loan, and offline checkouts keep the rules that matter."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from core.errors import DomainError
from core.model import CirculationCount, Fee, Item, Loan, Patron
from core.policy.loans import effective_return_time
from core.policy.reasons import Reason
from core.services import circulation, holds, patrons
from core.services.actors import local_admin, terminal_actor
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

KIOSK = terminal_actor("drop1", "main")
# A video lent ten days before NOW fell due at the end of Monday 2 March: 25 a day late.
LENT = NOW - dt.timedelta(days=10)
DUE = dt.datetime(2026, 3, 2, 23, 59, 59, tzinfo=dt.UTC)
CLOCK_RESET = dt.datetime(2006, 1, 1, 12, 0, tzinfo=dt.UTC)  # a book drop after a power cut


@pytest.fixture
def lib(store: Store) -> Store:
    add_record_with_items(store, "A Film", ["V1"], media_type="video")
    add_record_with_items(store, "A Book", ["B1", "B2"])
    add_patron(store, "P1")
    add_patron(store, "P2", given="Grace", family="Hopper")
    with store.write() as uow:  # both last did something a month before the loan
        uow.session.execute(update(Patron).values(last_activity_on=dt.date(2026, 1, 20)))
        circulation.checkout(uow, KIOSK, LENT, "P1", "V1")
    return store


def last_activity(store: Store, barcode: str = "P1") -> dt.date:
    with store.read() as uow:
        return uow.session.scalars(
            select(Patron.last_activity_on).where(Patron.barcode == barcode)
        ).one()


def fines(store: Store) -> list[int]:
    with store.read() as uow:
        return list(uow.session.scalars(select(Fee.amount)))


def checkin_days(store: Store) -> list[dt.date]:
    with store.read() as uow:
        query = select(CirculationCount.day).where(CirculationCount.event == "checkin")
        return list(uow.session.scalars(query))


def test_a_return_time_is_kept_within_the_loan() -> None:
    start, now = LENT, NOW
    assert effective_return_time(None, start, now) == now
    assert effective_return_time(CLOCK_RESET, start, now) == start
    assert effective_return_time(now + dt.timedelta(days=400), start, now) == now
    inside = now - dt.timedelta(days=1)
    assert effective_return_time(inside, start, now) == inside


def test_a_return_dated_before_the_loan_does_not_move_last_activity_back(lib: Store) -> None:
    assert last_activity(lib) == LENT.date()
    with lib.write() as uow:
        back = circulation.checkin(uow, KIOSK, NOW, "V1", returned_at=CLOCK_RESET)
    assert back.was_on_loan
    assert last_activity(lib) == LENT.date()  # not 2006: the next purge must not see it idle


def test_last_activity_never_moves_backwards(lib: Store) -> None:
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "B1")  # active today
    with lib.write() as uow:
        circulation.checkin(uow, KIOSK, NOW, "V1", returned_at=NOW - dt.timedelta(days=3))
    assert last_activity(lib) == NOW.date()


def test_statistics_count_the_day_the_server_processed_the_return(lib: Store) -> None:
    with lib.write() as uow:
        circulation.checkin(uow, KIOSK, NOW, "V1", returned_at=NOW - dt.timedelta(days=5))
    assert checkin_days(lib) == [NOW.date()]
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "B1")
    with lib.write() as uow:
        circulation.checkin(uow, KIOSK, NOW, "B1", returned_at=CLOCK_RESET)
    with lib.read() as uow:
        counted = uow.session.scalars(select(CirculationCount.day)).all()
    assert set(counted) == {LENT.date(), NOW.date()}  # the checkout days and today, never 2006


@pytest.mark.parametrize(
    ("returned_at", "fine"),
    [
        (None, 50),  # Tuesday 3 and Wednesday 4 March: two open days late
        (NOW - dt.timedelta(days=1), 25),  # dropped on Tuesday: one day late
        (DUE - dt.timedelta(hours=1), 0),  # dropped before it was due
        (CLOCK_RESET, 0),  # before the loan began: counts as returned at its start
        (NOW + dt.timedelta(days=30), 50),  # in the future: counts as returned now
    ],
)
def test_fines_use_the_clamped_return_time(
    lib: Store, returned_at: dt.datetime | None, fine: int
) -> None:
    with lib.write() as uow:
        back = circulation.checkin(uow, KIOSK, NOW, "V1", returned_at=returned_at)
    assert back.fine == fine
    assert fines(lib) == ([fine] if fine else [])


# --- offline ("no block") checkouts ------------------------------------------------------------


def set_status(store: Store, barcode: str, status: str) -> None:
    with store.write() as uow:
        uow.session.execute(update(Item).where(Item.barcode == barcode).values(status=status))


def owes(store: Store, barcode: str, amount: int) -> None:
    with store.write() as uow:
        pid = patrons.require_patron(uow, barcode)
        uow.session.add(
            Fee(patron_id=pid, kind="damage", amount=amount, balance=amount, created_at=NOW)
        )


def test_offline_checkout_ignores_limits_and_status_but_keeps_the_rule_due_date(
    lib: Store,
) -> None:
    owes(lib, "P2", 5000)  # over the fee limit
    set_status(lib, "B1", "missing")  # the shelf list is out of date: the item was here
    with pytest.raises(DomainError) as online, lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P2", "B1")
    assert online.value.reason == Reason.FEE_LIMIT
    with lib.write() as uow:
        result = circulation.checkout(uow, KIOSK, NOW, "P2", "B1", offline=True)
    # The loan rule's due date (21 days), whatever date the terminal gave the patron.
    assert result.due_at == dt.datetime(2026, 3, 25, 23, 59, 59, tzinfo=dt.UTC)
    with lib.read() as uow:
        assert uow.session.scalars(select(Loan.due_at)).all().count(result.due_at) == 1


@pytest.mark.parametrize(
    ("situation", "reason"),
    [
        ("lost card", Reason.CARD_LOST),
        ("expired card", Reason.CARD_EXPIRED),
        ("withdrawn item", Reason.ITEM_NOT_AVAILABLE),
        ("on the hold shelf for someone else", Reason.ITEM_ON_HOLD_FOR_OTHER),
    ],
)
def test_offline_checkout_still_refuses(lib: Store, situation: str, reason: Reason) -> None:
    patron, item = "P2", "B1"
    admin = local_admin()
    if situation == "lost card":
        with lib.write() as uow:
            patrons.block_patron(uow, admin, NOW, patron, reason="", card_lost=True)
    elif situation == "expired card":
        add_patron(lib, "OLD", expires_on=dt.date(2021, 6, 30))
        patron = "OLD"
    elif situation == "withdrawn item":
        set_status(lib, item, "withdrawn")
    else:
        with lib.write() as uow:
            circulation.checkout(uow, KIOSK, NOW, "P2", "B1")
            holds.place_hold(uow, KIOSK, NOW, "P1", item_barcode="B1", item_level=True)
        with lib.write() as uow:
            circulation.checkin(uow, KIOSK, NOW, "B1")
    with lib.read() as uow:
        loans_before = uow.session.scalars(select(Loan.item_id)).all()
    with pytest.raises(DomainError) as refused, lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, patron, item, offline=True)
    assert refused.value.reason == reason
    with lib.read() as uow:
        assert uow.session.scalars(select(Loan.item_id)).all() == loans_before
