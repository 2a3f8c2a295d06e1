"""The patron record: audited view, edits, consents, policy, note, block, PIN (PRIV-02/05/06/09)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from core.privacy.consents import grant_consent, withdraw_consent
from core.privacy.policy import acknowledge_policy
from core.services.patron_record import (
    PatronEdit,
    PatronRecord,
    WithdrawalPreview,
    choose_pin,
    edit_patron,
    patron_record,
    reset_pin,
    set_note,
    withdrawal_preview,
)
from core.services.patrons import block_patron, unblock_patron
from core.services.work import UnitOfWork
from tui.context import Desk
from tui.format import BLOCK_WORDS, day, money
from tui.screens.ask import Ask
from tui.screens.confirm import Confirm
from tui.screens.consents import ConsentModal, ConsentToggle
from tui.screens.edit_patron import EditPatronModal
from tui.screens.note import NoteChange, NoteModal
from tui.screens.pin_entry import PinEntryScreen
from tui.widgets.results import Results
from tui.work import call_service

T = TypeVar("T")
DESK_CHANNEL = "desk"


class PatronScreen(Screen[None]):
    """One patron's record; every change goes through a service and is audited there."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("e", "edit", "Edit"),
        Binding("c", "consents", "Consents"),
        Binding("a", "acknowledge", "Policy ack."),
        Binding("n", "note", "Note"),
        Binding("b", "block", "Block"),
        Binding("u", "unblock", "Unblock"),
        Binding("p", "pin", "Patron sets PIN"),
        Binding("r", "reset_pin", "Reset PIN"),
    ]

    def __init__(self, desk: Desk, barcode: str) -> None:
        super().__init__()
        self.desk = desk
        self.barcode = barcode
        self.record: PatronRecord | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="record-scroll", can_focus=True):
            yield Static("Reading the record...", id="record")
        yield Results(id="record-results")
        yield Footer()

    @property
    def results(self) -> Results:
        return self.query_one("#record-results", Results)

    def on_mount(self) -> None:
        self.query_one("#record-scroll").focus()
        self.reload()

    def reload(self) -> None:
        desk = self.desk
        actor, session_id = desk.session.actor, desk.session.session_id

        def job() -> PatronRecord:
            with desk.store.write() as uow:  # the view is audited (PRIV-05)
                return patron_record(uow, actor, desk.clock(), self.barcode, session_id=session_id)

        call_service(self, job, self._show, self._refused_view)

    def _refused_view(self, text: str) -> None:
        self.query_one("#record", Static).update("The record cannot be shown.")
        self.results.refused(text)

    def _show(self, record: PatronRecord) -> None:
        self.record = record
        p = record.patron
        currency = self.desk.facilities.currency
        text = Text()
        text.append(f"{p.given_name} {p.family_name}\n", style="bold")
        rows = [
            ("Card", p.barcode),
            ("Category", f"{p.category}{' (minor)' if p.is_minor else ''}, home {p.home_branch}"),
            ("Card valid to", day(p.expires_on)),
            ("E-mail", p.email or "-"),
            ("Phone", p.phone or "-"),
            ("PIN", "set" if p.has_pin else "not set"),
            ("Loans", f"{p.loans} ({p.overdue} overdue)"),
            ("Holds", f"{p.holds} ({p.holds_available} ready)"),
            ("Fees due", money(p.fees_outstanding, currency)),
        ]
        blocks = [BLOCK_WORDS[b] for b in sorted(p.blocks)]
        if p.staff_block:
            blocks.append(f"staff block reason: {p.staff_block}")
        rows.append(("Blocks", "; ".join(blocks) if blocks else "none"))
        note = f"{p.note} (expires {day(record.note_expires_on)})" if p.note else "none"
        rows.append(("Note", note))
        if record.policy_in_force is None:
            policy = "no policy published"
        elif record.needs_acknowledgement:
            policy = f"NEEDS ACKNOWLEDGEMENT of {record.policy_in_force} (press a)"
        else:
            policy = f"acknowledged {record.policy_acknowledged}"
        rows.append(("Privacy policy", policy))
        rows.append(("Consents", ", ".join(record.consents) if record.consents else "none given"))
        for label, value in rows:
            text.append(f"{label:<16}", style="bold")
            text.append(f"{value}\n")
        self.query_one("#record", Static).update(text)

    def _change(self, job: Callable[[UnitOfWork], T], said: Callable[[T], str]) -> None:
        """Run one change in a write unit of work, say what it did, and read the record again."""
        desk = self.desk

        def run() -> T:
            with desk.store.write() as uow:
                return job(uow)

        def done(result: T) -> None:
            self.results.ok(said(result))
            self.reload()

        call_service(self, run, done, self.results.refused)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        if self.record is not None:
            self.app.push_screen(EditPatronModal(self.record.patron), self._edited)

    def _edited(self, edit: PatronEdit | None) -> None:
        if edit is None:
            return
        actor, now = self.desk.session.actor, self.desk.clock
        self._change(
            lambda uow: edit_patron(uow, actor, now(), self.barcode, edit),
            lambda _view: "Record saved",
        )

    def action_consents(self) -> None:
        if self.record is not None:
            self.app.push_screen(ConsentModal(self.record.consents), self._consent_chosen)

    def _consent_chosen(self, choice: ConsentToggle | None) -> None:
        if choice is None:
            return
        kind, grant = choice
        actor, now = self.desk.session.actor, self.desk.clock
        if grant:
            self._change(
                lambda uow: grant_consent(uow, actor, now(), self.barcode, kind, DESK_CHANNEL),
                lambda change: f"Consent {change.kind} granted"
                if change.changed
                else f"Consent {change.kind} was already given",
            )
            return
        desk = self.desk

        def preview() -> WithdrawalPreview:
            with desk.store.read() as uow:
                return withdrawal_preview(uow, actor, now(), self.barcode, kind)

        def ask(found: WithdrawalPreview) -> None:
            self.app.push_screen(
                Confirm(found.sentence, f"Withdraw {kind}"),
                lambda yes: self._withdraw(kind) if yes else None,
            )

        call_service(self, preview, ask, self.results.refused)

    def _withdraw(self, kind: str) -> None:
        actor, now = self.desk.session.actor, self.desk.clock
        self._change(
            lambda uow: withdraw_consent(uow, actor, now(), self.barcode, kind, DESK_CHANNEL),
            lambda change: f"Consent {change.kind} withdrawn; {change.deleted} rows destroyed",
        )

    def action_acknowledge(self) -> None:
        actor, now = self.desk.session.actor, self.desk.clock
        self._change(
            lambda uow: acknowledge_policy(uow, actor, now(), self.barcode, DESK_CHANNEL),
            lambda policy: f"The patron acknowledged privacy policy {policy.version}",
        )

    def action_note(self) -> None:
        if self.record is None:
            return
        today = self.desk.clock().date()
        modal = NoteModal(self.record.patron.note, self.record.note_expires_on, today)
        self.app.push_screen(modal, self._noted)

    def _noted(self, change: NoteChange | None) -> None:
        if change is None:
            return
        text, expires = change
        actor, now = self.desk.session.actor, self.desk.clock
        self._change(
            lambda uow: set_note(uow, actor, now(), self.barcode, text, expires),
            lambda _none: "Note saved" if text.strip() else "Note removed",
        )

    def action_block(self) -> None:
        self.app.push_screen(Ask("Reason for the block (shown to staff only)"), self._blocked)

    def _blocked(self, reason: str | None) -> None:
        if reason is None:
            return
        actor, now = self.desk.session.actor, self.desk.clock
        self._change(
            lambda uow: block_patron(uow, actor, now(), self.barcode, reason=reason.strip()),
            lambda _view: "Patron blocked",
        )

    def action_unblock(self) -> None:
        actor, now = self.desk.session.actor, self.desk.clock
        self._change(
            lambda uow: unblock_patron(uow, actor, now(), self.barcode),
            lambda _view: "Blocks lifted",
        )

    def action_pin(self) -> None:
        self.app.push_screen(PinEntryScreen(), self._pin_typed)

    def _pin_typed(self, pin: str | None) -> None:
        if pin is None:
            self.results.note("PIN entry cancelled; nothing changed")
            return
        desk = self.desk
        actor, rule = desk.session.actor, desk.facilities.pin_rule
        call_service(
            self,
            lambda: choose_pin(desk.store, actor, desk.clock(), self.barcode, pin, rule),
            self._pin_set,
            self.results.refused,
        )

    def _pin_set(self, _none: None) -> None:
        self.results.ok("The patron's new PIN is set")
        self.reload()

    def action_reset_pin(self) -> None:
        self.app.push_screen(
            Confirm(
                "Remove the patron's PIN? Self-check will refuse them until they choose a new "
                "one at the desk (p). Staff can never see or choose a PIN.",
                "Reset PIN",
            ),
            lambda yes: self._reset() if yes else None,
        )

    def _reset(self) -> None:
        actor, now = self.desk.session.actor, self.desk.clock
        self._change(
            lambda uow: reset_pin(uow, actor, now(), self.barcode),
            lambda _none: "PIN removed: the patron must choose a new one",
        )
