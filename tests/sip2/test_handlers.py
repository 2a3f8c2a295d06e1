"""Every SIP2 handler over real TCP: success, refusal, and what must not appear (PRIV-16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio
from sqlalchemy import select

from core.model import Fee, Patron
from core.services import circulation, holds, patrons
from core.services.actors import terminal_actor
from core.store.uow import Store
from sip2.client import Sip2Client
from sip2.codec import (
    ACSStatus,
    BlockPatron,
    CheckinResponse,
    CheckoutResponse,
    EndPatronSession,
    EndSessionResponse,
    FeePaid,
    FeePaidResponse,
    Hold,
    HoldResponse,
    ItemInformationResponse,
    ItemStatusUpdate,
    ItemStatusUpdateResponse,
    Message,
    PatronEnable,
    PatronEnableResponse,
    PatronInformation,
    PatronInformationResponse,
    PatronStatusRequest,
    PatronStatusResponse,
    Renew,
    RenewAll,
    RenewAllResponse,
    RenewResponse,
    SCStatus,
    Summary,
)
from sip2.handlers import HandlerContext, HandlerOptions, Sip2Handlers, custom_profile
from tests.conftest import NOW, add_patron
from tests.sip2.conftest import (
    ITEMS,
    LOCAL_NOW,
    PASSWORD,
    PATRON,
    PIN,
    TERMINAL,
    checkin,
    checkout,
    item_info,
    start_server,
)

OTHER = "P0009999"  # another patron, whose name must never reach this terminal


@asynccontextmanager
async def kiosk(nursery: trio.Nursery, handlers: Sip2Handlers) -> AsyncIterator[Sip2Client]:
    host, port = await start_server(nursery, handlers)
    async with await Sip2Client.connect(host, port) as client:
        assert await client.login(TERMINAL, PASSWORD)
        yield client


def texts(message: Message) -> str:
    """Every value of a parsed answer, to search for what must not be there."""
    values = [str(getattr(message, f.name)) for f in dataclasses.fields(message)]
    return " ".join(values)


def status_request(pin: str | None = None, patron: str = PATRON) -> PatronStatusRequest:
    return PatronStatusRequest(
        language="001",
        transaction_date=LOCAL_NOW,
        institution_id="main",
        patron_id=patron,
        terminal_password="",
        patron_password=pin or "",
    )


def info(pin: str | None = PIN, summary: Summary | None = None, **kw: int) -> PatronInformation:
    return PatronInformation(
        transaction_date=LOCAL_NOW,
        institution_id="main",
        patron_id=PATRON,
        patron_password=pin,
        summary=summary or Summary(),
        **kw,
    )


@pytest.mark.trio
async def test_status_says_truthfully_that_all_messages_are_supported(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    async with kiosk(nursery, handlers) as client:
        answer = await client.request(SCStatus(max_print_width=40))
    assert isinstance(answer, ACSStatus) and answer.online_status
    assert len(answer.supported_messages) == 16 and answer.terminal_location == "main"


@pytest.mark.trio
async def test_patron_status_names_only_after_a_valid_pin(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    async with kiosk(nursery, handlers) as client:
        no_pin = await client.request(status_request())
        wrong = await client.request(status_request("0000"))
        right = await client.request(status_request(PIN))
        unknown = await client.request(status_request(patron="NOBODY"))
    for answer in (no_pin, wrong):
        assert isinstance(answer, PatronStatusResponse) and answer.valid_patron
        assert answer.personal_name == "" and "Ada" not in texts(answer)
        assert answer.fee_amount is None
    assert isinstance(wrong, PatronStatusResponse) and wrong.valid_patron_password is False
    assert isinstance(right, PatronStatusResponse) and right.valid_patron_password
    assert right.personal_name == "Ada"  # minimal: first name only
    assert "Lovelace" not in texts(right)
    assert isinstance(unknown, PatronStatusResponse) and unknown.valid_patron is False
    assert unknown.patron_status.charge_privileges_denied


@pytest.mark.trio
async def test_patron_information_lists_only_after_a_valid_pin(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    charged = Summary(charged_items=True)
    async with kiosk(nursery, handlers) as client:
        for item in ITEMS:
            assert (
                isinstance(ok := await client.request(checkout(item)), CheckoutResponse) and ok.ok
            )
        without = await client.request(info(pin=None, summary=charged))
        wrong = await client.request(info(pin="0000", summary=charged))
        listed = await client.request(info(summary=charged))
        window = await client.request(info(summary=charged, start_item=2, end_item=2))
    for answer in (without, wrong):
        assert isinstance(answer, PatronInformationResponse)
        assert answer.charged_items == () and answer.charged_items_count == 0
        assert answer.personal_name == "" and not set(ITEMS) & set(texts(answer).split())
    assert isinstance(listed, PatronInformationResponse)
    assert listed.charged_items_count == 2 and set(listed.charged_items) == set(ITEMS)
    assert listed.personal_name == "Ada" and listed.email_address is None
    assert listed.home_phone_number is None and listed.home_address is None
    assert isinstance(window, PatronInformationResponse) and len(window.charged_items) == 1


@pytest.mark.trio
async def test_checkout_refusals_and_cancel(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    add_patron(store, "P-EXPIRED", expires_on=dt.date(2020, 1, 1), pin=PIN)
    async with kiosk(nursery, handlers) as client:
        wrong_pin = await client.request(checkout(pin="0000"))
        unknown = await client.request(checkout("NO-SUCH-ITEM"))
        expired = await client.request(dataclasses.replace(checkout(), patron_id="P-EXPIRED"))
        done = await client.request(checkout(pin=PIN))
        cancel = await client.request(dataclasses.replace(checkout(), cancel=True))
        again = await client.request(checkout())
    for refused in (wrong_pin, unknown, expired):
        assert isinstance(refused, CheckoutResponse) and not refused.ok and not refused.desensitize
        assert refused.screen_messages
    assert isinstance(expired, CheckoutResponse) and "expired" in expired.screen_messages[0]
    assert isinstance(done, CheckoutResponse) and done.ok and done.desensitize
    assert done.due_date == dt.datetime(2026, 3, 25, 23, 59, 59) and done.title
    assert isinstance(cancel, CheckoutResponse) and cancel.ok
    assert isinstance(again, CheckoutResponse) and again.ok and not again.renewal_ok


@pytest.mark.trio
async def test_checkin_routes_holds_without_naming_anyone(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    add_patron(store, OTHER, given="Zebedee", family="Quux")
    async with kiosk(nursery, handlers) as client:
        await client.request(checkout())
        with store.write() as uow:
            holds.place_hold(uow, terminal_actor("desk", "main"), NOW, OTHER, item_barcode=ITEMS[0])
        back = await client.request(checkin())
        plain = await client.request(checkin(ITEMS[1]))
    assert isinstance(back, CheckinResponse) and back.ok and back.alert
    assert back.alert_type == "01" and back.sort_bin == "HOLDS"
    assert back.patron_id is None
    assert all(code not in ("DA", "CY", "AA") for code, _ in back.extra)
    for secret in (PATRON, OTHER, "Zebedee", "Quux", "Ada"):
        assert secret not in texts(back)
    assert isinstance(plain, CheckinResponse) and plain.ok and not plain.alert
    assert "not on loan" in " ".join(plain.screen_messages)


@pytest.mark.trio
async def test_item_information_never_says_who_has_it(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    async with kiosk(nursery, handlers) as client:
        await client.request(checkout())
        answer = await client.request(item_info())
        missing = await client.request(item_info("NOPE"))
    assert isinstance(answer, ItemInformationResponse)
    assert answer.circulation_status == "04" and answer.due_date is not None
    assert PATRON not in texts(answer) and "Ada" not in texts(answer)
    assert isinstance(missing, ItemInformationResponse) and missing.circulation_status == "01"


@pytest.mark.trio
async def test_fee_paid(nursery: trio.Nursery, handlers: Sip2Handlers, store: Store) -> None:
    with store.write() as uow:
        patron_id = patrons.require_patron(uow, PATRON)
        uow.session.add(
            Fee(patron_id=patron_id, kind="damage", amount=250, balance=250, created_at=NOW)
        )

    def paid(amount: str, payment: str = "00") -> FeePaid:
        return FeePaid(
            transaction_date=LOCAL_NOW,
            fee_type="01",
            payment_type=payment,
            currency_type="USD",
            fee_amount=amount,
            institution_id="main",
            patron_id=PATRON,
            transaction_id="T-1",
            patron_password=PIN,
        )

    async with kiosk(nursery, handlers) as client:
        too_much = await client.request(paid("9.99"))
        bad = await client.request(paid("abc"))
        ok = await client.request(paid("2.50", "02"))
    assert isinstance(too_much, FeePaidResponse) and not too_much.payment_accepted
    assert isinstance(bad, FeePaidResponse) and not bad.payment_accepted
    assert isinstance(ok, FeePaidResponse) and ok.payment_accepted and ok.transaction_id == "T-1"
    with store.read() as uow:
        assert uow.session.scalars(select(Fee.status)).one() == "paid"


@pytest.mark.trio
async def test_renew_and_renew_all(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    add_patron(store, OTHER, pin="2222")

    def renew(patron: str = PATRON, pin: str = PIN) -> Renew:
        return Renew(
            third_party_allowed=False,
            no_block=False,
            transaction_date=LOCAL_NOW,
            institution_id="main",
            patron_id=patron,
            item_id=ITEMS[0],
            nb_due_date=None,
            patron_password=pin,
        )

    async with kiosk(nursery, handlers) as client:
        await client.request(checkout())
        await client.request(checkout(ITEMS[1]))
        renewed = await client.request(renew())
        not_theirs = await client.request(renew(OTHER, "2222"))
        everything = await client.request(
            RenewAll(
                transaction_date=LOCAL_NOW,
                institution_id="main",
                patron_id=PATRON,
                patron_password=PIN,
            )
        )
    assert isinstance(renewed, RenewResponse) and renewed.ok and renewed.renewal_ok
    assert isinstance(not_theirs, RenewResponse) and not not_theirs.ok
    assert isinstance(everything, RenewAllResponse) and everything.ok
    assert everything.renewed_count == 2 and set(everything.renewed_items) == set(ITEMS)


@pytest.mark.trio
async def test_block_and_enable(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    async with kiosk(nursery, handlers) as client:
        blocked = await client.request(
            BlockPatron(
                card_retained=False,
                transaction_date=LOCAL_NOW,
                institution_id="main",
                blocked_card_message="Card left in machine",
                patron_id=PATRON,
                terminal_password="",
            )
        )
        refused = await client.request(checkout())
        enabled = await client.request(
            PatronEnable(transaction_date=LOCAL_NOW, institution_id="main", patron_id=PATRON)
        )
        allowed = await client.request(checkout())
    assert isinstance(blocked, PatronStatusResponse)
    assert blocked.patron_status.charge_privileges_denied and blocked.personal_name == ""
    assert isinstance(refused, CheckoutResponse) and not refused.ok
    assert isinstance(enabled, PatronEnableResponse)
    assert not enabled.patron_status.charge_privileges_denied
    assert isinstance(allowed, CheckoutResponse) and allowed.ok


@pytest.mark.trio
async def test_terminal_cannot_lift_a_staff_block(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    from core.services.actors import local_admin

    with store.write() as uow:
        patrons.block_patron(uow, local_admin(), NOW, PATRON, reason="see the manager")
    async with kiosk(nursery, handlers) as client:
        enabled = await client.request(
            PatronEnable(transaction_date=LOCAL_NOW, institution_id="main", patron_id=PATRON)
        )
    assert isinstance(enabled, PatronEnableResponse)
    assert enabled.patron_status.charge_privileges_denied


@pytest.mark.trio
async def test_holds_place_change_cancel(
    nursery: trio.Nursery, handlers: Sip2Handlers, store: Store
) -> None:
    sent = iter(range(100))

    def hold(mode: str, pickup: str | None = None) -> Hold:
        # Each request at its own second: the same date again would be a retry (docs/sip2.md).
        return Hold(
            hold_mode=mode,
            transaction_date=LOCAL_NOW + dt.timedelta(seconds=next(sent)),
            institution_id="main",
            patron_id=PATRON,
            item_id=ITEMS[0],
            pickup_location=pickup,
            hold_type="2",
            patron_password=PIN,
        )

    add_patron(store, OTHER)
    with store.write() as uow:
        circulation.checkout(uow, terminal_actor("desk", "main"), NOW, OTHER, ITEMS[0])
        circulation.checkout(uow, terminal_actor("desk", "main"), NOW, OTHER, ITEMS[1])
    async with kiosk(nursery, handlers) as client:
        placed = await client.request(hold("+"))
        twice = await client.request(hold("+"))
        changed = await client.request(hold("*", "main"))
        bad_branch = await client.request(hold("*", "mars"))
        cancelled = await client.request(hold("-"))
        none_left = await client.request(hold("-"))
    assert isinstance(placed, HoldResponse) and placed.ok and placed.queue_position == 1
    assert isinstance(twice, HoldResponse) and not twice.ok
    assert isinstance(changed, HoldResponse) and changed.ok and changed.pickup_location == "main"
    assert isinstance(bad_branch, HoldResponse) and not bad_branch.ok
    assert isinstance(cancelled, HoldResponse) and cancelled.ok
    assert isinstance(none_left, HoldResponse) and not none_left.ok


@pytest.mark.trio
async def test_item_status_update_and_end_session(
    nursery: trio.Nursery, handlers: Sip2Handlers
) -> None:
    async with kiosk(nursery, handlers) as client:
        updated = await client.request(
            ItemStatusUpdate(
                transaction_date=LOCAL_NOW,
                institution_id="main",
                item_id=ITEMS[0],
                item_properties="DVD in case 3",
            )
        )
        seen = await client.request(item_info())
        unknown = await client.request(
            ItemStatusUpdate(
                transaction_date=LOCAL_NOW,
                institution_id="main",
                item_id="NOPE",
                item_properties="x",
            )
        )
        ended = await client.request(
            EndPatronSession(transaction_date=LOCAL_NOW, institution_id="main", patron_id=PATRON)
        )
    assert isinstance(updated, ItemStatusUpdateResponse) and updated.item_properties_ok
    assert isinstance(seen, ItemInformationResponse) and seen.item_properties == "DVD in case 3"
    assert isinstance(unknown, ItemStatusUpdateResponse) and not unknown.item_properties_ok
    assert isinstance(ended, EndSessionResponse) and ended.end_session


@pytest.mark.trio
async def test_profiles_named_and_custom(
    nursery: trio.Nursery, store: Store, handlers: Sip2Handlers
) -> None:
    with store.write() as uow:
        patron = uow.session.scalars(select(Patron).where(Patron.barcode == PATRON)).one()
        patron.email = "ada@example.org"
    named = Sip2Handlers(HandlerContext(store, HandlerOptions()))
    named.profiles = {**named.profiles, "minimal": named.profiles["named"]}
    async with kiosk(nursery, named) as client:
        full = await client.request(info())
    assert isinstance(full, PatronInformationResponse) and full.personal_name == "Ada Lovelace"
    assert full.email_address is None and "ada@example.org" not in texts(full)

    chatty = custom_profile("vendor", "minimal", ("BE", "PC"))
    vendor = Sip2Handlers(HandlerContext(store, HandlerOptions(profiles={"minimal": chatty})))
    async with kiosk(nursery, vendor) as client:
        extra = await client.request(info())
        hidden = await client.request(info(pin=None))
    assert isinstance(extra, PatronInformationResponse)
    # BE is a standard field of 64, so it arrives as the e-mail address; PC is an extension.
    assert extra.email_address == "ada@example.org" and ("PC", "adult") in extra.extra
    assert isinstance(hidden, PatronInformationResponse) and hidden.extra == ()
    assert hidden.email_address is None
    with pytest.raises(ValueError, match="PB"):
        custom_profile("nosy", "minimal", ("PB",))  # we hold no birth date and never send one
