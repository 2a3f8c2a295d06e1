"""Circulation services on a real store: checkout, checkin, renew, holds, fees, blocks (PRIV-03)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.errors import DomainError, NotFound, PermissionDenied
from core.model import CirculationCount, Consent, Fee, Loan, ReadingHistory
from core.policy.reasons import Reason
from core.services import circulation, fees, holds, patrons
from core.services.actors import Actor, ActorKind, Role, local_admin, terminal_actor
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

KIOSK = terminal_actor("kiosk1", "main")
BRANCH2 = terminal_actor("kiosk2", "east")


def _count(store: Store, model: type) -> int:
    with store.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def lib(store: Store) -> Store:
    add_record_with_items(store, "A Book", ["I1", "I2"])
    add_record_with_items(store, "A Film", ["V1"], media_type="video")
    add_patron(store, "P1")
    add_patron(store, "P2", given="Grace", family="Hopper")
    return store


def test_checkout_sets_due_date_over_closed_day(lib: Store) -> None:
    # NOW is Wednesday 2026-03-04; 21 days later is Wednesday 25th; video (7 days) lands on
    # Wednesday 11th. Neither is a Sunday; push one onto a Sunday with a 4-day-later checkout.
    with lib.write() as uow:
        result = circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
    assert result.due_at == dt.datetime(2026, 3, 25, 23, 59, 59, tzinfo=dt.UTC)
    assert not result.renewed
    thursday = NOW + dt.timedelta(days=1)  # + 7 days = Thursday; Sunday case below
    saturday = NOW + dt.timedelta(days=4)  # Sunday 2026-03-08 + 7 = Sunday 15th -> Monday 16th
    with lib.write() as uow:
        film = circulation.checkout(uow, KIOSK, saturday, "P2", "V1")
    assert thursday.weekday() == 3
    assert film.due_at.date() == dt.date(2026, 3, 16)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("expired", Reason.CARD_EXPIRED),
        ("lost", Reason.CARD_LOST),
        ("staff", Reason.STAFF_BLOCK),
        ("on_loan_to_other", Reason.ITEM_NOT_AVAILABLE),
        ("fees", Reason.FEE_LIMIT),
    ],
)
def test_checkout_refusals(lib: Store, setup: str, reason: Reason) -> None:
    admin = local_admin()
    add_patron(
        lib, "PX", expires_on=dt.date(2020, 1, 1) if setup == "expired" else dt.date(2030, 1, 1)
    )
    with lib.write() as uow:
        if setup == "lost":
            patrons.block_patron(uow, admin, NOW, "PX", reason="", card_lost=True)
        if setup == "staff":
            patrons.block_patron(uow, admin, NOW, "PX", reason="see manager")
        if setup == "on_loan_to_other":
            circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
        if setup == "fees":
            pid = patrons.require_patron(uow, "PX")
            uow.session.add(
                Fee(patron_id=pid, kind="damage", amount=5000, balance=5000, created_at=NOW)
            )
    with pytest.raises(DomainError) as refused, lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "PX", "I1")
    assert refused.value.reason == reason
    assert "PX" not in str(refused.value)


def test_unknown_patron_and_item(lib: Store) -> None:
    with pytest.raises(NotFound) as e1, lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "nobody", "I1")
    assert e1.value.reason == Reason.PATRON_NOT_FOUND
    with pytest.raises(NotFound) as e2, lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "nothing")
    assert e2.value.reason == Reason.ITEM_NOT_FOUND


def test_checkin_deletes_loan_and_writes_only_statistics_without_consent(lib: Store) -> None:
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
    with lib.write() as uow:
        result = circulation.checkin(uow, KIOSK, NOW + dt.timedelta(days=3), "I1")
    assert result.was_on_loan and result.fine == 0 and result.item.status == "available"
    assert _count(lib, Loan) == 0
    assert _count(lib, ReadingHistory) == 0  # PRIV-03: no consent, no history
    with lib.read() as uow:
        rows = {
            (r.event, r.count, r.patron_category, r.media_type)
            for r in uow.session.scalars(select(CirculationCount))
        }
    assert rows == {
        ("checkout", 1, "adult", "book"),
        ("checkin", 1, "adult", "book"),
    }


def test_reading_history_only_with_consent(lib: Store) -> None:
    with lib.write() as uow:
        pid = patrons.require_patron(uow, "P2")
        uow.session.add(
            Consent(patron_id=pid, kind="checkout_history", granted_at=NOW, channel="desk")
        )
        circulation.checkout(uow, KIOSK, NOW, "P2", "I2")
        circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
    with lib.write() as uow:
        circulation.checkin(uow, KIOSK, NOW, "I2")
        circulation.checkin(uow, KIOSK, NOW, "I1")
    with lib.read() as uow:
        history = [(h.patron_id, h.title) for h in uow.session.scalars(select(ReadingHistory))]
    assert history == [(pid, "A Book")]


def test_overdue_checkin_creates_a_fee_that_outlives_the_loan(lib: Store) -> None:
    with lib.write() as uow:
        result = circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
    late = result.due_at + dt.timedelta(days=3)  # Wed 25th due; Sat 28th: 3 open days late
    with lib.write() as uow:
        back = circulation.checkin(uow, KIOSK, late, "I1")
    assert back.fine == 30
    assert _count(lib, Loan) == 0
    with lib.write() as uow:
        paid = fees.pay_fees(uow, KIOSK, late, "P1", 30)
    assert paid.outstanding == 0 and len(paid.fees_settled) == 1
    with lib.read() as uow:
        fee = uow.session.scalars(select(Fee)).one()
        assert fee.status == "paid" and fee.item_id is None  # a settled fee names no item


def test_renewal_limits_and_waiting_holds(lib: Store) -> None:
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
    for n in (1, 2):
        with lib.write() as uow:
            renewed = circulation.renew(uow, KIOSK, NOW + dt.timedelta(days=n), "I1", "P1")
        assert renewed.renewals == n
    with pytest.raises(DomainError) as limit, lib.write() as uow:
        circulation.renew(uow, KIOSK, NOW, "I1", "P1")
    assert limit.value.reason == Reason.RENEWAL_LIMIT
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "V1")
        holds.place_hold(uow, KIOSK, NOW, "P2", item_barcode="V1")
    with pytest.raises(DomainError) as waiting, lib.write() as uow:
        circulation.renew(uow, KIOSK, NOW, "V1", "P1")
    assert waiting.value.reason == Reason.RENEWAL_HOLD_WAITING
    with pytest.raises(DomainError) as other, lib.write() as uow:
        circulation.renew(uow, KIOSK, NOW, "V1", "P2")
    assert other.value.reason == Reason.NOT_BORROWER


def test_renew_all_reports_each_item(lib: Store) -> None:
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
        circulation.checkout(uow, KIOSK, NOW, "P1", "V1")
        holds.place_hold(uow, KIOSK, NOW, "P2", item_barcode="V1")
    with lib.write() as uow:
        result = circulation.renew_all(uow, KIOSK, NOW + dt.timedelta(days=1), "P1")
    assert [r.item.barcode for r in result.renewed] == ["I1"]
    assert result.unrenewed == (("V1", "renewal_hold_waiting"),)


def test_hold_trapped_at_checkin_and_filled_by_checkout(lib: Store) -> None:
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
        circulation.checkout(uow, KIOSK, NOW, "P1", "I2")
        hold = holds.place_hold(uow, KIOSK, NOW, "P2", item_barcode="I1")
    assert hold.queue_position == 1 and hold.status == "waiting"
    with lib.write() as uow:
        back = circulation.checkin(uow, KIOSK, NOW, "I2")
    assert back.hold_trapped and back.on_hold_shelf and back.item.status == "on_hold_shelf"
    with pytest.raises(DomainError) as refused, lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "I2")
    assert refused.value.reason == Reason.ITEM_ON_HOLD_FOR_OTHER
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P2", "I2")
        detail = patrons.patron_detail(uow, KIOSK, NOW, "P2")
    assert detail.holds == ()  # the loan filled the hold


def test_hold_for_another_branch_goes_in_transit(lib: Store) -> None:
    lib.env.rules.branches  # noqa: B018 - "main" only by default
    with lib.write() as uow:
        circulation.checkout(uow, KIOSK, NOW, "P1", "I1")
        holds.place_hold(uow, KIOSK, NOW, "P2", item_barcode="I1")
    with lib.write() as uow:
        back = circulation.checkin(uow, BRANCH2, NOW, "I1")
    assert back.hold_trapped and back.destination_branch == "main"
    assert back.item.status == "in_transit"
    with lib.write() as uow:
        arrived = circulation.checkin(uow, KIOSK, NOW, "I1")
    assert arrived.on_hold_shelf and arrived.destination_branch is None


def test_terminal_may_not_view_patrons_as_staff_or_waive(lib: Store) -> None:
    with pytest.raises(PermissionDenied), lib.write() as uow:
        fees.waive_fee(uow, KIOSK, NOW, "P1", 1)
    staff = Actor(ActorKind.STAFF, "pat", Role.PRIVACY_OFFICER)
    with pytest.raises(PermissionDenied), lib.write() as uow:
        circulation.checkout(uow, staff, NOW, "P1", "I1")


def test_pin_lockout(lib: Store) -> None:
    add_patron(lib, "PP", pin="2468")
    assert patrons.check_pin(lib, KIOSK, NOW, "PP", "2468").valid
    for _ in range(5):
        check = patrons.check_pin(lib, KIOSK, NOW, "PP", "0000")
        assert not check.valid
    assert check.locked
    locked = patrons.check_pin(lib, KIOSK, NOW, "PP", "2468")
    assert not locked.valid and locked.locked and locked.patron is None
    later = patrons.check_pin(lib, KIOSK, NOW + dt.timedelta(minutes=16), "PP", "2468")
    assert later.valid and not later.locked
    unknown = patrons.check_pin(lib, KIOSK, NOW, "nobody", "1")
    assert unknown.patron is None and not unknown.valid
