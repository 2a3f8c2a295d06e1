"""Every refusal and every side effect of checkout, checkin and renew, through the services.

Each case builds its situation with the services themselves on a real SQLCipher store, acts
once, and compares a snapshot of every circulation fact before and after: a refusal changes
nothing, a success changes exactly the facts listed (PRIV-02, PRIV-03).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.errors import DomainError, PermissionDenied
from core.model import (
    CirculationCount,
    Consent,
    Fee,
    FeeStatus,
    Hold,
    Item,
    Loan,
    Patron,
    ReadingHistory,
    Record,
)
from core.policy.reasons import Reason
from core.policy.rules import BlockLimits, CirculationRules, LoanRule
from core.services import circulation, holds, patrons
from core.services.actors import Actor, ActorKind, Role, local_admin, terminal_actor
from core.store.open import StoreOptions, create_store
from core.store.uow import Store, UnitOfWork
from tests.conftest import FAST_ARGON2, NOW, add_patron, add_record_with_items

MAIN = terminal_actor("kiosk-main", "main")
EAST = terminal_actor("kiosk-east", "east")
ADMIN = local_admin()
TODAY = NOW.date()
# Small limits so that every block can be reached with a handful of loans.
RULES = CirculationRules(
    rules={
        "adult": {
            "book": LoanRule(loan_days=21, renewals=1, max_loans=2),
            "video": LoanRule(loan_days=7, renewals=1, fine_per_day=25, max_fine=500),
        },
        "child": {"video": LoanRule(max_loans=0)},
    },
    limits=BlockLimits(max_loans=3, max_overdue=1, max_fees=1000),
    branches=("main", "east"),
)
BOOK_DUE = dt.datetime(2026, 3, 25, 23, 59, 59, tzinfo=dt.UTC)  # NOW + 21 days, end of day
# Lent ten days before NOW, a video fell due at the end of Monday 2 March (Sunday the 1st is
# closed): two open days late at NOW, 50 in fines.
LONG_AGO = NOW - dt.timedelta(days=10)


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Store]:
    options = StoreOptions(database=tmp_path / "engine.db", key_file=tmp_path / "engine.key")
    store = create_store(options, RULES, FAST_ARGON2, now=NOW)
    add_record_with_items(store, "A Book", ["B1", "B2", "B3"])
    add_record_with_items(store, "A Film", ["V1"], media_type="video")
    add_record_with_items(store, "An Album", ["C1"], media_type="cd")
    add_record_with_items(store, "East Book", ["E1"], branch="east")
    add_patron(store, "P1")
    add_patron(store, "P2", given="Grace", family="Hopper")
    add_patron(store, "KID", category="child")
    add_patron(store, "OLD", expires_on=dt.date(2020, 1, 1))
    with store.write() as uow:  # the days they last did anything lie in the past
        uow.session.execute(update(Patron).values(last_activity_on=TODAY - dt.timedelta(days=40)))
    yield store
    store.close()


# --- what is compared -------------------------------------------------------------------------

Facts = Mapping[tuple[object, ...], object]


def snapshot(store: Store) -> Facts:
    """Every circulation fact, keyed by barcodes and titles rather than ids."""
    facts: dict[tuple[object, ...], object] = {}
    with store.read() as uow:
        s = uow.session
        barcode = dict(s.execute(select(Patron.id, Patron.barcode)).all())
        copy = dict(s.execute(select(Item.id, Item.barcode)).all())
        title = dict(s.execute(select(Record.id, Record.title)).all())
        for loan in s.scalars(select(Loan)):
            facts["loan", copy[loan.item_id]] = (
                barcode[loan.patron_id],
                loan.due_at,
                loan.renewals,
            )
        for item in s.scalars(select(Item)):
            facts["item", item.barcode] = item.status
        for hold in s.scalars(select(Hold)):
            trapped = copy.get(hold.trapped_item_id) if hold.trapped_item_id else None
            facts["hold", barcode[hold.patron_id], title[hold.record_id]] = (hold.status, trapped)
        for fee in s.scalars(select(Fee)):
            key = ("fee", barcode[fee.patron_id], fee.kind, copy.get(fee.item_id or 0))
            facts[key] = (fee.amount, fee.balance, fee.status)
        for row in s.scalars(select(ReadingHistory)):
            facts["history", barcode[row.patron_id], row.title] = row.returned_on
        for count in s.scalars(select(CirculationCount)):
            kind = (count.event, count.patron_category, count.media_type)
            facts[("count", count.day, count.branch, *kind)] = count.count
        for patron_id, day in s.execute(select(Patron.id, Patron.last_activity_on)):
            facts["active", barcode[patron_id]] = day
    return facts


def changes(before: Facts, after: Facts) -> dict[tuple[object, ...], tuple[object, object]]:
    return {
        key: (before.get(key), after.get(key))
        for key in before.keys() | after.keys()
        if before.get(key) != after.get(key)
    }


# --- how situations are built -----------------------------------------------------------------

Setup = Callable[[Store], None]


def nothing(_store: Store) -> None:
    return None


def lend(patron: str, item: str, when: dt.datetime = NOW, actor: Actor = MAIN) -> Setup:
    def run(store: Store) -> None:
        with store.write() as uow:
            circulation.checkout(uow, actor, when, patron, item)

    return run


def give_back(item: str, when: dt.datetime = NOW, actor: Actor = MAIN) -> Setup:
    def run(store: Store) -> None:
        with store.write() as uow:
            circulation.checkin(uow, actor, when, item)

    return run


def hold(patron: str, item: str, *, pickup: str | None = None) -> Setup:
    def run(store: Store) -> None:
        with store.write() as uow:
            holds.place_hold(uow, ADMIN, NOW, patron, item_barcode=item, pickup_branch=pickup)

    return run


def block(patron: str, *, lost: bool = False) -> Setup:
    def run(store: Store) -> None:
        with store.write() as uow:
            patrons.block_patron(
                uow, ADMIN, NOW, patron, reason="" if lost else "see staff", card_lost=lost
            )

    return run


def fee(patron: str, amount: int) -> Setup:
    def run(store: Store) -> None:
        with store.write() as uow:
            pid = patrons.require_patron(uow, patron)
            uow.session.add(
                Fee(patron_id=pid, kind="damage", amount=amount, balance=amount, created_at=NOW)
            )

    return run


def item_status(item: str, status: str) -> Setup:
    def run(store: Store) -> None:
        with store.write() as uow:
            uow.session.execute(update(Item).where(Item.barcode == item).values(status=status))

    return run


def consent(patron: str) -> Setup:
    def run(store: Store) -> None:
        with store.write() as uow:
            pid = patrons.require_patron(uow, patron)
            uow.session.add(
                Consent(patron_id=pid, kind="checkout_history", granted_at=NOW, channel="desk")
            )

    return run


def renewed(item: str, patron: str) -> Setup:
    def run(store: Store) -> None:
        with store.write() as uow:
            circulation.renew(uow, MAIN, NOW, item, patron)

    return run


def steps(*setups: Setup) -> Setup:
    def run(store: Store) -> None:
        for setup in setups:
            setup(store)

    return run


Act = Callable[[UnitOfWork, Actor], object]  # called with the terminal that acts


def checkout(patron: str, item: str, *, allow_renewal: bool = True) -> Act:
    def act(uow: UnitOfWork, actor: Actor) -> object:
        return circulation.checkout(uow, actor, NOW, patron, item, allow_renewal=allow_renewal)

    return act


def checkin(item: str, at: Actor | None = None) -> Act:
    return lambda uow, actor: circulation.checkin(uow, at or actor, NOW, item)


def renew(item: str, patron: str | None = None) -> Act:
    return lambda uow, actor: circulation.renew(uow, actor, NOW, item, patron)


@dataclass(frozen=True)
class Refusal:
    name: str
    setup: Setup
    act: Act
    reason: Reason


REFUSALS = [
    # checkout: the patron
    Refusal("checkout unknown patron", nothing, checkout("NOBODY", "B1"), Reason.PATRON_NOT_FOUND),
    Refusal("checkout unknown item", nothing, checkout("P1", "NOTHING"), Reason.ITEM_NOT_FOUND),
    Refusal("checkout expired card", nothing, checkout("OLD", "B1"), Reason.CARD_EXPIRED),
    Refusal("checkout lost card", block("P1", lost=True), checkout("P1", "B1"), Reason.CARD_LOST),
    Refusal("checkout staff block", block("P1"), checkout("P1", "B1"), Reason.STAFF_BLOCK),
    Refusal("checkout fee limit", fee("P1", 1000), checkout("P1", "B1"), Reason.FEE_LIMIT),
    Refusal(
        "checkout too many overdue",
        lend("P1", "V1", LONG_AGO),
        checkout("P1", "B1"),
        Reason.TOO_MANY_OVERDUE,
    ),
    Refusal(
        "checkout too many loans",
        steps(lend("P1", "B1"), lend("P1", "C1"), lend("P1", "V1")),
        checkout("P1", "E1"),
        Reason.TOO_MANY_LOANS,
    ),
    Refusal(
        "checkout media limit",
        steps(lend("P1", "B1"), lend("P1", "B2")),
        checkout("P1", "B3"),
        Reason.MEDIA_LIMIT,
    ),
    Refusal("checkout category may not", nothing, checkout("KID", "V1"), Reason.MEDIA_LIMIT),
    # checkout: the item
    Refusal(
        "checkout lent to another",
        lend("P2", "B1"),
        checkout("P1", "B1"),
        Reason.ITEM_NOT_AVAILABLE,
    ),
    Refusal(
        "checkout lost item",
        item_status("B1", "lost"),
        checkout("P1", "B1"),
        Reason.ITEM_NOT_AVAILABLE,
    ),
    Refusal(
        "checkout in transit home",
        steps(lend("P2", "E1"), give_back("E1")),
        checkout("P1", "E1"),
        Reason.ITEM_NOT_AVAILABLE,
    ),
    Refusal(
        "checkout held for another",
        steps(lend("P2", "V1"), hold("P1", "V1"), give_back("V1")),
        checkout("P2", "V1"),
        Reason.ITEM_ON_HOLD_FOR_OTHER,
    ),
    Refusal(
        "checkout in transit for another (not here yet)",
        steps(lend("P2", "V1"), hold("P1", "V1", pickup="east"), give_back("V1")),
        checkout("P2", "V1"),
        Reason.ITEM_NOT_AVAILABLE,
    ),
    # checkout of an item the patron has: a renewal, or not
    Refusal(
        "checkout own loan, no renewal asked",
        lend("P1", "B1"),
        checkout("P1", "B1", allow_renewal=False),
        Reason.RENEWAL_LIMIT,
    ),
    Refusal(
        "checkout own loan, someone waits",
        steps(lend("P1", "V1"), hold("P2", "V1")),
        checkout("P1", "V1"),
        Reason.RENEWAL_HOLD_WAITING,
    ),
    Refusal(
        "checkout own loan, renewed enough",
        steps(lend("P1", "B1"), renewed("B1", "P1")),
        checkout("P1", "B1"),
        Reason.RENEWAL_LIMIT,
    ),
    # checkin
    Refusal("checkin unknown item", nothing, checkin("NOTHING"), Reason.ITEM_NOT_FOUND),
    # renew
    Refusal("renew unknown item", nothing, renew("NOTHING", "P1"), Reason.ITEM_NOT_FOUND),
    Refusal("renew not on loan", nothing, renew("B1", "P1"), Reason.ITEM_NOT_ON_LOAN),
    Refusal("renew not on loan, no patron", nothing, renew("B1"), Reason.ITEM_NOT_ON_LOAN),
    Refusal(
        "renew unknown patron", lend("P1", "B1"), renew("B1", "NOBODY"), Reason.PATRON_NOT_FOUND
    ),
    Refusal("renew another's loan", lend("P1", "B1"), renew("B1", "P2"), Reason.NOT_BORROWER),
    Refusal(
        "renew renewed enough",
        steps(lend("P1", "B1"), renewed("B1", "P1")),
        renew("B1", "P1"),
        Reason.RENEWAL_LIMIT,
    ),
    Refusal(
        "renew someone waits",
        steps(lend("P1", "V1"), hold("P2", "V1")),
        renew("V1"),
        Reason.RENEWAL_HOLD_WAITING,
    ),
    Refusal(
        "renew lost card",
        steps(lend("P1", "B1"), block("P1", lost=True)),
        renew("B1", "P1"),
        Reason.CARD_LOST,
    ),
    Refusal(
        "renew fee limit",
        steps(lend("P1", "B1"), fee("P1", 1000)),
        renew("B1", "P1"),
        Reason.FEE_LIMIT,
    ),
]


@pytest.mark.parametrize("case", REFUSALS, ids=[case.name for case in REFUSALS])
def test_every_refusal_names_its_reason_and_changes_nothing(lib: Store, case: Refusal) -> None:
    case.setup(lib)
    before = snapshot(lib)
    with pytest.raises(DomainError) as refused, lib.write() as uow:
        case.act(uow, MAIN)
    assert refused.value.reason == case.reason
    assert changes(before, snapshot(lib)) == {}
    for secret in ("P1", "P2", "Lovelace", "Hopper"):  # refusals carry no personal data
        assert secret not in str(refused.value)


@pytest.mark.parametrize("act", [checkout("P1", "B2"), checkin("B1"), renew("B1", "P1")])
def test_a_role_without_circulation_is_refused_everything(lib: Store, act: Act) -> None:
    officer = Actor(ActorKind.STAFF, "pia", Role.PRIVACY_OFFICER)
    lend("P1", "B1")(lib)
    before = snapshot(lib)
    with pytest.raises(PermissionDenied), lib.write() as uow:
        act(uow, officer)
    assert changes(before, snapshot(lib)) == {}


# --- side effects ----------------------------------------------------------------------------


def count(
    event: str, media: str = "book", category: str = "adult", branch: str = "main"
) -> tuple[object, ...]:
    return ("count", TODAY, branch, event, category, media)


@dataclass(frozen=True)
class Effect:
    name: str
    setup: Setup
    act: Act
    expected: Mapping[tuple[object, ...], tuple[object, object]] = field(default_factory=dict)


EARLIER = TODAY - dt.timedelta(days=40)
VIDEO_DUE_LATE = dt.datetime(2026, 3, 2, 23, 59, 59, tzinfo=dt.UTC)

EFFECTS = [
    Effect(
        "checkout lends, counts and touches",
        nothing,
        checkout("P1", "B1"),
        {
            ("loan", "B1"): (None, ("P1", BOOK_DUE, 0)),
            ("item", "B1"): ("available", "on_loan"),
            count("checkout"): (None, 1),
            ("active", "P1"): (EARLIER, TODAY),
        },
    ),
    Effect(
        "checkout fills the patron's hold on the shelf",
        steps(lend("P2", "V1", LONG_AGO + dt.timedelta(days=9)), hold("P1", "V1"), give_back("V1")),
        checkout("P1", "V1"),
        {
            ("loan", "V1"): (None, ("P1", dt.datetime(2026, 3, 11, 23, 59, 59, tzinfo=dt.UTC), 0)),
            ("item", "V1"): ("on_hold_shelf", "on_loan"),
            ("hold", "P1", "A Film"): (("on_shelf", "V1"), None),
            ("active", "P1"): (EARLIER, TODAY),
            count("checkout", "video"): (None, 1),
        },
    ),
    Effect(
        "checkout fills the patron's waiting hold on the title",
        steps(lend("P2", "B1"), hold("P1", "B1")),
        checkout("P1", "B2"),
        {
            ("loan", "B2"): (None, ("P1", BOOK_DUE, 0)),
            ("item", "B2"): ("available", "on_loan"),
            ("hold", "P1", "A Book"): (("waiting", None), None),
            ("active", "P1"): (EARLIER, TODAY),
            count("checkout"): (1, 2),
        },
    ),
    Effect(
        "checkout catches a copy in transit for the patron",
        steps(
            lend("P2", "V1", NOW - dt.timedelta(days=1)),
            hold("P1", "V1", pickup="east"),
            give_back("V1"),
        ),
        checkout("P1", "V1"),
        {
            ("loan", "V1"): (None, ("P1", dt.datetime(2026, 3, 11, 23, 59, 59, tzinfo=dt.UTC), 0)),
            ("item", "V1"): ("in_transit", "on_loan"),
            ("hold", "P1", "A Film"): (("in_transit", "V1"), None),
            ("active", "P1"): (EARLIER, TODAY),
            count("checkout", "video"): (None, 1),
        },
    ),
    Effect(
        "checkout of an own loan renews it",
        lend("P1", "B1", NOW - dt.timedelta(days=2)),
        checkout("P1", "B1"),
        {
            ("loan", "B1"): (
                ("P1", dt.datetime(2026, 3, 23, 23, 59, 59, tzinfo=dt.UTC), 0),
                ("P1", BOOK_DUE, 1),
            ),
            ("active", "P1"): (TODAY - dt.timedelta(days=2), TODAY),
            count("renew"): (None, 1),
        },
    ),
    Effect(
        "checkin ends the loan, counts, keeps no history",
        lend("P1", "B1", NOW - dt.timedelta(days=3)),
        checkin("B1"),
        {
            ("loan", "B1"): (("P1", dt.datetime(2026, 3, 23, 23, 59, 59, tzinfo=dt.UTC), 0), None),
            ("item", "B1"): ("on_loan", "available"),
            ("active", "P1"): (TODAY - dt.timedelta(days=3), TODAY),
            count("checkin"): (None, 1),
        },
    ),
    Effect(
        "checkin keeps history on consent",
        steps(consent("P1"), lend("P1", "B1")),
        checkin("B1"),
        {
            ("loan", "B1"): (("P1", BOOK_DUE, 0), None),
            ("item", "B1"): ("on_loan", "available"),
            ("history", "P1", "A Book"): (None, TODAY),
            count("checkin"): (None, 1),
        },
    ),
    Effect(
        "checkin of a late item charges a fine",
        lend("P1", "V1", LONG_AGO),
        checkin("V1"),
        {
            ("loan", "V1"): (("P1", VIDEO_DUE_LATE, 0), None),
            ("item", "V1"): ("on_loan", "available"),
            ("fee", "P1", "overdue", "V1"): (None, (50, 50, FeeStatus.OPEN.value)),
            ("active", "P1"): (LONG_AGO.date(), TODAY),
            count("checkin", "video"): (None, 1),
        },
    ),
    Effect(
        "checkin traps the item for a hold here",
        steps(lend("P1", "B1"), lend("P1", "B2"), hold("P2", "B1")),
        checkin("B2"),
        {
            ("loan", "B2"): (("P1", BOOK_DUE, 0), None),
            ("item", "B2"): ("on_loan", "on_hold_shelf"),
            ("hold", "P2", "A Book"): (("waiting", None), ("on_shelf", "B2")),
            count("checkin"): (None, 1),
        },
    ),
    Effect(
        "checkin sends a trapped item to the pickup branch",
        steps(lend("P1", "B1"), hold("P2", "B1", pickup="main")),
        checkin("B1", at=EAST),
        {
            ("loan", "B1"): (("P1", BOOK_DUE, 0), None),
            ("item", "B1"): ("on_loan", "in_transit"),
            ("hold", "P2", "A Book"): (("waiting", None), ("in_transit", "B1")),
            count("checkin", branch="east"): (None, 1),
        },
    ),
    Effect(
        "checkin of a trapped item arriving puts it on the shelf",
        steps(lend("P1", "B1"), hold("P2", "B1", pickup="main"), give_back("B1", actor=EAST)),
        checkin("B1"),
        {
            ("item", "B1"): ("in_transit", "on_hold_shelf"),
            ("hold", "P2", "A Book"): (("in_transit", "B1"), ("on_shelf", "B1")),
        },
    ),
    Effect(
        "checkin away from home sends the item home",
        lend("P1", "E1"),
        checkin("E1"),
        {
            ("loan", "E1"): (("P1", BOOK_DUE, 0), None),
            ("item", "E1"): ("on_loan", "in_transit"),
            count("checkin"): (None, 1),
        },
    ),
    Effect("checkin of an item on the shelf changes nothing", nothing, checkin("B1"), {}),
    Effect(
        "checkin of a lost item found puts it back",
        item_status("B1", "lost"),
        checkin("B1"),
        {("item", "B1"): ("lost", "available")},
    ),
    Effect(
        "renew moves the due date and counts",
        lend("P1", "B1", NOW - dt.timedelta(days=2)),
        renew("B1"),
        {
            ("loan", "B1"): (
                ("P1", dt.datetime(2026, 3, 23, 23, 59, 59, tzinfo=dt.UTC), 0),
                ("P1", BOOK_DUE, 1),
            ),
            ("active", "P1"): (TODAY - dt.timedelta(days=2), TODAY),
            count("renew"): (None, 1),
        },
    ),
    Effect(
        "renew with too many overdue is still allowed",
        steps(lend("P1", "V1", LONG_AGO), lend("P1", "B1", LONG_AGO)),
        renew("B1", "P1"),
        {
            ("loan", "B1"): (
                ("P1", dt.datetime(2026, 3, 16, 23, 59, 59, tzinfo=dt.UTC), 0),
                ("P1", BOOK_DUE, 1),
            ),
            ("active", "P1"): (LONG_AGO.date(), TODAY),
            count("renew"): (None, 1),
        },
    ),
]


@pytest.mark.parametrize("case", EFFECTS, ids=[case.name for case in EFFECTS])
def test_every_side_effect_and_nothing_else(lib: Store, case: Effect) -> None:
    case.setup(lib)
    before = snapshot(lib)
    with lib.write() as uow:
        case.act(uow, MAIN)
    assert changes(before, snapshot(lib)) == dict(case.expected)
