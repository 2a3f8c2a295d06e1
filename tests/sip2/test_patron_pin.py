"""A terminal acts for a patron only after the patron's PIN (``patron_pin``, PRIV-16, PRIV-09).

Without it the refusal is the same bytes for every card, known or not, and every item.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import trio
from sqlalchemy import func, select

from core.model import Fee, Hold, Loan
from core.services import circulation, holds, patrons
from core.services.actors import terminal_actor
from core.store.uow import Store
from sip2.client import Sip2Client
from sip2.codec import (
    Checkout,
    CheckoutResponse,
    EndPatronSession,
    FeePaid,
    Message,
    PatronInformationResponse,
    Renew,
    RenewAll,
)
from sip2.codec import Hold as HoldRequest
from sip2.handlers import HandlerContext, HandlerOptions, PatronPin, Sip2Handlers
from tests.conftest import NOW, add_patron, add_record_with_items
from tests.sip2.conftest import (
    ITEMS,
    LOCAL_NOW,
    PASSWORD,
    PATRON,
    PIN,
    TERMINAL,
    checkin,
    encoded,
    patron_info,
    start_server,
)

OTHER, OTHER_PIN, UNKNOWN = "P0009999", "2222", "P-NOBODY"
HELD = "I0000099"
DESK = terminal_actor("desk", "main")


def _checkout(patron: str, item: str, pin: str | None) -> Message:
    return Checkout(
        sc_renewal_policy=False,
        no_block=False,
        transaction_date=LOCAL_NOW,
        institution_id="main",
        patron_id=patron,
        item_id=item,
        terminal_password="",
        patron_password=pin,
    )


def _renew(patron: str, item: str, pin: str | None) -> Message:
    return Renew(
        third_party_allowed=False,
        no_block=False,
        transaction_date=LOCAL_NOW,
        institution_id="main",
        patron_id=patron,
        item_id=item,
        nb_due_date=None,
        patron_password=pin,
    )


def _renew_all(patron: str, _item: str, pin: str | None) -> Message:
    return RenewAll(
        transaction_date=LOCAL_NOW, institution_id="main", patron_id=patron, patron_password=pin
    )


def _cancel_hold(patron: str, item: str, pin: str | None) -> Message:
    return HoldRequest(
        hold_mode="-",
        transaction_date=LOCAL_NOW,
        institution_id="main",
        patron_id=patron,
        item_id=item,
        patron_password=pin,
    )


def _pay(patron: str, _item: str, pin: str | None) -> Message:
    return FeePaid(
        transaction_date=LOCAL_NOW,
        fee_type="01",
        payment_type="00",
        currency_type="USD",
        fee_amount="1.00",
        institution_id="main",
        patron_id=patron,
        transaction_id="T-1",
        patron_password=pin,
    )


GATED: dict[str, Callable[[str, str, str | None], Message]] = {
    "11": _checkout,
    "29": _renew,
    "65": _renew_all,
    "15": _cancel_hold,
    "37": _pay,
}


def _count(store: Store, model: type[Loan] | type[Hold] | type[Fee]) -> int:
    with store.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _handlers(store: Store, mode: PatronPin | None = None) -> Sip2Handlers:
    options = HandlerOptions(patron_pin={TERMINAL: mode} if mode else {})
    return Sip2Handlers(HandlerContext(store, options))


@asynccontextmanager
async def _kiosk(nursery: trio.Nursery, handlers: Sip2Handlers) -> AsyncIterator[Sip2Client]:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        yield client


@pytest.fixture
def other_has_everything(handlers: Sip2Handlers, store: Store) -> None:
    """OTHER has ITEMS[0] out, a hold and a fee: what a guess could reveal or undo."""
    add_patron(store, OTHER, given="Zebedee", pin=OTHER_PIN)
    add_record_with_items(store, "Second Book", [HELD])
    with store.write() as uow:
        circulation.checkout(uow, DESK, NOW, OTHER, ITEMS[0])
        holds.place_hold(uow, DESK, NOW, OTHER, item_barcode=HELD)
        patron_id = patrons.require_patron(uow, OTHER)
        uow.session.add(
            Fee(patron_id=patron_id, kind="damage", amount=250, balance=250, created_at=NOW)
        )


@pytest.mark.trio
@pytest.mark.usefixtures("other_has_everything")
@pytest.mark.parametrize("command", sorted(GATED))
@pytest.mark.parametrize("pin", [None, "0000"], ids=["no PIN", "wrong PIN"])
async def test_without_a_valid_pin_every_card_gets_the_same_bytes(
    nursery: trio.Nursery, store: Store, command: str, pin: str | None
) -> None:
    build = GATED[command]
    before = (_count(store, Loan), _count(store, Hold), _count(store, Fee))
    answers: dict[tuple[str, str], bytes] = {}
    async with _kiosk(nursery, _handlers(store)) as client:
        for patron in (PATRON, OTHER, UNKNOWN):
            for item in (ITEMS[0], HELD, "NO-SUCH-ITEM"):
                answers[patron, item] = await client.send_raw(encoded(build(patron, item, pin)))
    assert len(set(answers.values())) == 1, answers  # known or not, right item or not
    (answer,) = set(answers.values())
    assert answer[:2] == str(int(command) + 1).zfill(2).encode()
    for secret in (PATRON, OTHER, UNKNOWN, "Zebedee", "Ada", ITEMS[0], "Privacy", "2.50"):
        assert secret.encode() not in answer
    assert (_count(store, Loan), _count(store, Hold), _count(store, Fee)) == before
    with store.read() as uow:
        assert uow.session.scalars(select(Fee.balance)).one() == 250  # nothing paid


@pytest.mark.trio
async def test_required_wants_the_pin_in_the_request_itself(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    async with _kiosk(nursery, _handlers(store, "required")) as client:
        shown = await client.request(patron_info())  # the PIN proven earlier in the session
        refused = await client.request(_checkout(PATRON, ITEMS[0], None))
        lent = await client.request(_checkout(PATRON, ITEMS[0], PIN))
    assert isinstance(shown, PatronInformationResponse) and shown.valid_patron_password
    assert isinstance(refused, CheckoutResponse) and not refused.ok
    assert isinstance(lent, CheckoutResponse) and lent.ok


@pytest.mark.trio
async def test_session_accepts_a_pin_proven_earlier_for_the_same_patron(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    add_patron(store, OTHER, pin=OTHER_PIN)
    end = EndPatronSession(transaction_date=LOCAL_NOW, institution_id="main", patron_id=PATRON)
    async with _kiosk(nursery, _handlers(store, "session")) as client:
        before_pin = await client.request(_checkout(PATRON, ITEMS[0], None))
        await client.request(patron_info())
        lent = await client.request(_checkout(PATRON, ITEMS[0], None))
        not_for_another = await client.request(_checkout(OTHER, ITEMS[1], None))
        await client.request(end)
        after_end = await client.request(_checkout(PATRON, ITEMS[1], None))
    assert isinstance(before_pin, CheckoutResponse) and not before_pin.ok
    assert isinstance(lent, CheckoutResponse) and lent.ok
    assert isinstance(not_for_another, CheckoutResponse) and not not_for_another.ok
    assert isinstance(after_end, CheckoutResponse) and not after_end.ok
    assert _count(store, Loan) == 1


@pytest.mark.trio
async def test_not_required_acts_without_a_pin_but_never_with_a_wrong_one(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    async with _kiosk(nursery, _handlers(store, "not_required")) as client:
        wrong = await client.request(_checkout(PATRON, ITEMS[0], "0000"))
        lent = await client.request(_checkout(PATRON, ITEMS[0], None))
        returned = await client.request(checkin())  # 09 needs no patron at all
    assert isinstance(wrong, CheckoutResponse) and not wrong.ok
    assert isinstance(lent, CheckoutResponse) and lent.ok
    assert returned.COMMAND == "10" and getattr(returned, "ok", False)


@pytest.mark.trio
async def test_the_hold_shelf_sentence_needs_a_valid_pin(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    add_patron(store, OTHER, pin=OTHER_PIN)
    with store.write() as uow:
        circulation.checkout(uow, DESK, NOW, OTHER, ITEMS[0])
        holds.place_hold(uow, DESK, NOW, PATRON, item_barcode=ITEMS[0])
    with store.write() as uow:
        circulation.checkin(uow, DESK, NOW, ITEMS[0])  # trapped for PATRON: on the shelf
    async with _kiosk(nursery, handlers) as client:
        anonymous = await client.request(patron_info(pin=None))
        wrong = await client.request(patron_info(pin="0000"))
        proven = await client.request(patron_info())
    for answer in (anonymous, wrong):
        assert isinstance(answer, PatronInformationResponse)
        assert not any("hold shelf" in text for text in answer.screen_messages)
    assert isinstance(proven, PatronInformationResponse)
    assert any("hold shelf" in text for text in proven.screen_messages)
