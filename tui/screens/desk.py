"""The circulation desk (home): one barcode input for cards and items, the patron, the results."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label

from core.services.circulation import checkin, checkout, renew
from core.services.fees import pay_fees
from core.services.patrons import find_patron
from core.services.search import BarcodeKind, identify_barcode
from core.services.views import (
    CheckinResult,
    CheckoutResult,
    PatronView,
    PaymentResult,
    RenewResult,
)
from tui.context import Desk
from tui.format import day, money
from tui.screens.patron import PatronScreen
from tui.screens.payment import PaymentModal
from tui.screens.search import SearchModal
from tui.widgets.patron_card import PatronCard
from tui.widgets.results import Results
from tui.work import call_service


class Mode(enum.StrEnum):
    """What an item barcode does at the desk."""

    CHECKOUT = "checkout"
    CHECKIN = "checkin"
    RENEW = "renew"


@dataclass(frozen=True)
class Opened:
    patron: PatronView


@dataclass(frozen=True)
class Lent:
    result: CheckoutResult
    patron: PatronView


@dataclass(frozen=True)
class Returned:
    result: CheckinResult


@dataclass(frozen=True)
class Renewed:
    result: RenewResult


@dataclass(frozen=True)
class Unknown:
    barcode: str


@dataclass(frozen=True)
class NeedPatron:
    """An item was scanned to check out before any patron card."""


Outcome = Opened | Lent | Returned | Renewed | Unknown | NeedPatron

_PROMPTS = {
    Mode.CHECKOUT: "CHECKOUT: scan a patron card, then the items",
    Mode.CHECKIN: "CHECKIN: scan returned items",
    Mode.RENEW: "RENEW: scan items to renew",
}


def checkin_sentence(result: CheckinResult, currency: str) -> str:
    """What the desk must do with a returned item, in one line."""
    item = result.item
    parts = [f"Returned {item.title} ({item.barcode})"]
    if not result.was_on_loan:
        parts.append("it was not on loan")
    if result.fine:
        parts.append(f"overdue fine {money(result.fine, currency)}")
    if result.hold_trapped and result.on_hold_shelf:
        parts.append(f"HOLD TRAPPED: put it on the hold shelf at {item.home_branch}")
    elif result.hold_trapped and result.destination_branch:
        parts.append(f"HOLD TRAPPED: send it to {result.destination_branch} for a hold")
    elif result.destination_branch:
        parts.append(f"ROUTE: send it to {result.destination_branch}")
    else:
        parts.append(f"reshelve at {item.location or item.home_branch}")
    return "; ".join(parts)


class DeskScreen(Screen[None]):
    """Home of the staff app; keyboard-wedge scanners type a barcode and Enter into the input."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "mode('checkin')", "Checkin"),
        Binding("f3", "mode('renew')", "Renew"),
        Binding("f4", "mode('checkout')", "Checkout"),
        Binding("f5", "pay", "Pay fee"),
        Binding("f6", "search", "Find by name"),
        Binding("f7", "record", "Patron record"),
        Binding("escape", "done", "Done with patron"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.mode = Mode.CHECKOUT
        self.patron: PatronView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield PatronCard(self.desk.facilities.currency, id="patron-card")
        with Horizontal(id="scan-row"):
            yield Label(_PROMPTS[self.mode], id="mode")
        yield Input(id="scan", placeholder="barcode, then Enter")
        yield Results(id="results")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.desk.session.actor.name} ({self.desk.session.actor.role.value})"
        self.query_one("#scan", Input).focus()

    @property
    def results(self) -> Results:
        return self.query_one("#results", Results)

    def _show_patron(self, patron: PatronView | None) -> None:
        self.patron = patron
        self.query_one("#patron-card", PatronCard).show(patron)

    def action_mode(self, mode: str) -> None:
        self.mode = Mode(mode)
        self.query_one("#mode", Label).update(_PROMPTS[self.mode])
        self.query_one("#scan", Input).focus()

    def action_done(self) -> None:
        self._show_patron(None)
        self.action_mode(Mode.CHECKOUT.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "scan":
            return
        barcode = event.value.strip()
        event.input.value = ""
        if barcode:
            self.scan(barcode)

    def scan(self, barcode: str) -> None:
        """Act on one scanned barcode in the current mode (a card always opens its patron)."""
        desk, mode = self.desk, self.mode
        patron = self.patron.barcode if self.patron is not None else None
        actor, session_id = desk.session.actor, desk.session.session_id

        def job() -> Outcome:
            now = desk.clock()
            with desk.store.write() as uow:
                kind = identify_barcode(uow, actor, barcode)
                if kind is BarcodeKind.PATRON:
                    return Opened(find_patron(uow, actor, now, barcode, session_id=session_id))
                if kind is BarcodeKind.UNKNOWN:
                    return Unknown(barcode)
                if mode is Mode.CHECKIN:
                    return Returned(checkin(uow, actor, now, barcode))
                if mode is Mode.RENEW:
                    return Renewed(renew(uow, actor, now, barcode, patron))
                if patron is None:
                    return NeedPatron()
                lent = checkout(uow, actor, now, patron, barcode)
                return Lent(lent, find_patron(uow, actor, now, patron, session_id=session_id))

        call_service(self, job, self._scanned, self.results.refused, group="scan")

    def _scanned(self, outcome: Outcome) -> None:
        currency = self.desk.facilities.currency
        match outcome:
            case Opened(patron):
                self._show_patron(patron)
                if self.mode is Mode.CHECKIN:
                    self.action_mode(Mode.CHECKOUT.value)
                self.results.note(f"Serving {patron.given_name} {patron.family_name}")
            case Lent(result, patron):
                self._show_patron(patron)
                verb = "Renewed" if result.renewed else "Checked out"
                self.results.ok(
                    f"{verb} {result.item.title} ({result.item.barcode}): due {day(result.due_at)}"
                )
            case Returned(result):
                self.results.ok(checkin_sentence(result, currency))
            case Renewed(result):
                self.results.ok(
                    f"Renewed {result.item.title} ({result.item.barcode}): due "
                    f"{day(result.due_at)} (renewal {result.renewals})"
                )
            case Unknown(barcode):
                self.results.refused(f"No patron or item has the barcode {barcode}")
            case NeedPatron():
                self.results.refused("Scan the patron's card first (or F2 for checkin)")

    def action_pay(self) -> None:
        if self.patron is None:
            self.results.refused("Scan a patron card first")
            return
        patron = self.patron
        self.app.push_screen(
            PaymentModal(patron.fees_outstanding, self.desk.facilities.currency),
            lambda amount: self._pay(patron.barcode, amount),
        )

    def _pay(self, barcode: str, amount: int | None) -> None:
        if amount is None:
            return
        desk = self.desk
        actor, session_id = desk.session.actor, desk.session.session_id

        def job() -> tuple[PaymentResult, PatronView]:
            now = desk.clock()
            with desk.store.write() as uow:
                paid = pay_fees(uow, actor, now, barcode, amount)
                return paid, find_patron(uow, actor, now, barcode, session_id=session_id)

        def done(outcome: tuple[PaymentResult, PatronView]) -> None:
            paid, patron = outcome
            currency = desk.facilities.currency
            self._show_patron(patron)
            self.results.ok(
                f"Payment of {money(paid.applied, currency)} taken; "
                f"{money(paid.outstanding, currency)} still due"
            )

        call_service(self, job, done, self.results.refused)

    def action_search(self) -> None:
        self.app.push_screen(SearchModal(self.desk), self._found)

    def _found(self, barcode: str | None) -> None:
        if barcode is not None:
            self.scan(barcode)

    def action_record(self) -> None:
        if self.patron is None:
            self.results.refused("Scan a patron card first")
            return
        self.app.push_screen(PatronScreen(self.desk, self.patron.barcode), self._back)

    def _back(self, _result: None) -> None:
        if self.patron is not None:
            self.scan(self.patron.barcode)  # the record may have changed: read it again
        self.query_one("#scan", Input).focus()
