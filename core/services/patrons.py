"""Patron lookups, PIN checks with lockout, blocks; staff views are audited (PRIV-05, PRIV-09)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select

from core.audit import append_event
from core.errors import NotFound
from core.model import AuditEvent, Patron
from core.policy.pins import after_failed_pin, pin_locked
from core.policy.reasons import Reason
from core.privacy.training import require_training
from core.security.secrets import Verification
from core.services._queries import patron_by_barcode
from core.services.actors import Actor, Permission
from core.services.holds import hold_view
from core.services.standing import patron_view, require_patron_row
from core.services.views import FeeView, LoanView, PatronDetail, PatronView, PinCheck
from core.store import repository
from core.store.uow import Store, UnitOfWork


def _viewed_in_session(
    uow: UnitOfWork, actor: Actor, subject: str, action: str, session_id: str
) -> bool:
    # Read the detail in Python rather than with a database JSON function, so the same code runs
    # on SQLCipher and PostgreSQL; the subject index keeps the candidates few.
    details = uow.session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.subject == subject,
            AuditEvent.actor == actor.label,
            AuditEvent.action == action,
        )
    )
    for text in details:
        try:
            decoded = json.loads(text) if text else {}
        except ValueError:
            continue
        if isinstance(decoded, dict) and decoded.get("session_id") == session_id:
            return True
    return False


def _audit_view(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron_id: int,
    action: str,
    session_id: str | None = None,
) -> None:
    # PRIV-05: the first view of a patron record by a member of staff in a session is written
    # down, by pseudonym. Without a session id (the command line: each command is its own
    # session) every view is.
    if not actor.is_person:
        return
    subject = uow.env.pseudonyms.patron(patron_id)
    detail = None if session_id is None else {"session_id": session_id}
    if session_id is not None and _viewed_in_session(uow, actor, subject, action, session_id):
        return
    append_event(
        uow.session, now=now, actor=actor.label, action=action, subject=subject, detail=detail
    )


def find_patron(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    barcode: str,
    *,
    session_id: str | None = None,
) -> PatronView:
    """A patron's record and standing; audited when a person looks (once per `session_id`).

    Staff who have not acknowledged the policy in force see nothing (PRIV-15).
    """
    return _find_patron(uow, actor, now, barcode, session_id)[0]


def _find_patron(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str, session_id: str | None
) -> tuple[PatronView, int]:
    """The view and the number of open fees; the patron and its counts are one statement."""
    actor.require(Permission.VIEW_PATRON if actor.is_person else Permission.CIRCULATE)
    require_training(uow, actor, now)
    patron = require_patron_row(uow, barcode, now)
    _audit_view(uow, actor, now, patron.id, "patron.view", session_id)
    return patron_view(uow, patron, now), patron.open_fees


def patron_detail(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    barcode: str,
    *,
    session_id: str | None = None,
) -> PatronDetail:
    """A patron with current loans, holds and fees (what a kiosk lists after a valid PIN).

    One statement reads the patron with its counts; a list is read only when its count says
    it is not empty, so a patron with nothing out costs one statement, not four.
    """
    view, open_fees = _find_patron(uow, actor, now, barcode, session_id)
    patron_id = view.patron_id
    loans = tuple(
        LoanView(
            item_barcode=loan.item_barcode,
            title=loan.title,
            media_type=loan.media_type,
            checked_out_at=loan.checked_out_at,
            due_at=loan.due_at,
            renewals=loan.renewals,
            overdue=loan.due_at < now,
        )
        for loan in (repository.loans_of_patron(uow, patron_id) if view.loans else ())
    )
    holds = tuple(
        hold_view(uow, hold)
        for hold in (repository.holds_of_patron(uow, patron_id) if view.holds else ())
    )
    fees = tuple(
        FeeView(
            fee_id=fee.id,
            kind=fee.kind,
            amount=fee.amount,
            balance=fee.balance,
            status=fee.status,
            created_at=fee.created_at,
            title=fee.title,
        )
        for fee in (repository.open_fees(uow, patron_id) if open_fees else ())
    )
    return PatronDetail(patron=view, loans=loans, holds=holds, fees=fees)


@dataclass(frozen=True)
class PinAttempt:
    """One PIN attempt, counted before its hash runs; ``pin_hash`` None: check the dummy hash.

    ``patron_id`` is None for an unknown card; ``pin_hash`` is None also for a locked card and
    for a patron without a PIN, so all of them cost one argon2 check against the dummy hash
    (``SecretHasher.verify``) and none of them can pass (PRIV-09).
    """

    patron_id: int | None
    pin_hash: str | None
    locked: bool = False


def begin_pin_attempt(uow: UnitOfWork, now: dt.datetime, barcode: str) -> PinAttempt:
    """Check the lock and count the attempt as failed, in one write, before any hash runs.

    Attempts are serialised by the write transaction, so whatever the concurrency no more than
    ``max_attempts`` attempts per lock period reach a real hash: the attempt that reaches the
    limit sets the lock itself, and every later one finds the card locked, right PIN or not.
    ``finish_pin_attempt`` clears the count when the PIN was right (PRIV-09).
    """
    patron = uow.session.scalars(select(Patron).where(Patron.barcode == barcode)).one_or_none()
    if patron is None:
        return PinAttempt(None, None)
    if pin_locked(patron.pin_locked_until, now):
        return PinAttempt(patron.id, None, locked=True)
    count, locked_until = after_failed_pin(
        patron.pin_failed_attempts, uow.env.rules.pin_lockout, now
    )
    patron.pin_failed_attempts = count
    if locked_until is not None:
        patron.pin_locked_until = locked_until
    return PinAttempt(patron.id, patron.pin_hash)


def finish_pin_attempt(
    uow: UnitOfWork, now: dt.datetime, attempt: PinAttempt, outcome: Verification
) -> None:
    """After the hash: a right PIN clears the count and the lock; store a rehash if one came.

    A wrong PIN changes nothing here: ``begin_pin_attempt`` counted it already.
    """
    if not outcome.ok or attempt.patron_id is None:
        return
    patron = uow.session.get(Patron, attempt.patron_id)
    if patron is None:
        return
    patron.pin_failed_attempts = 0
    patron.pin_locked_until = None
    if outcome.new_hash is not None:
        patron.pin_hash = outcome.new_hash


def check_pin(store: Store, actor: Actor, now: dt.datetime, barcode: str, pin: str) -> PinCheck:
    """Verify a patron's PIN; the argon2 work runs between two short transactions.

    Takes the store rather than a unit of work because it is two transactions around the hash.
    """
    actor.require(Permission.CIRCULATE)
    with store.write() as uow:
        attempt = begin_pin_attempt(uow, now, barcode)
    outcome = store.env.hasher.verify(attempt.pin_hash, pin)
    if attempt.patron_id is None:
        return PinCheck(patron=None, valid=False, locked=False)
    if attempt.locked:
        return PinCheck(patron=None, valid=False, locked=True)
    with store.write() as uow:
        finish_pin_attempt(uow, now, attempt, outcome)
        patron = uow.session.get_one(Patron, attempt.patron_id)
        locked = pin_locked(patron.pin_locked_until, now)
        view = _view_by_id(uow, patron.id, now)
    return PinCheck(patron=view, valid=outcome.ok, locked=locked)


def set_pin(uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str, pin_hash: str) -> None:
    """Replace a PIN hash (staff force a reset; the hash is made by the caller). Audited."""
    actor.require(Permission.EDIT_PATRON)
    patron = patron_by_barcode(uow.session, barcode)
    patron.pin_hash = pin_hash
    patron.pin_failed_attempts = 0
    patron.pin_locked_until = None
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="patron.pin_reset",
        subject=uow.env.pseudonyms.patron(patron.id),
    )


def block_patron(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    barcode: str,
    *,
    reason: str,
    card_lost: bool = False,
) -> PatronView:
    """Block a patron (staff block with reason, or a card reported lost/retained). Audited."""
    actor.require(Permission.BLOCK_PATRON)
    patron = patron_by_barcode(uow.session, barcode)
    if card_lost:
        patron.card_lost = True
    prefix = "" if actor.is_person else TERMINAL_BLOCK_PREFIX
    if reason or not card_lost:
        patron.staff_block = (prefix + (reason or "blocked"))[:200]
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="patron.block",
        subject=uow.env.pseudonyms.patron(patron.id),
        detail={"card_lost": card_lost},
    )
    return _view_by_id(uow, patron.id, now)


def _view_by_id(uow: UnitOfWork, patron_id: int, now: dt.datetime) -> PatronView:
    row = repository.find_patron_by_id(uow, patron_id, now)
    assert row is not None  # the caller holds the patron in this unit of work
    return patron_view(uow, row, now)


TERMINAL_BLOCK_PREFIX = "self-check: "


def unblock_patron(uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str) -> PatronView:
    """Lift blocks (audited); a terminal lifts only the blocks terminals set (SIP2 25 after 01)."""
    actor.require(Permission.BLOCK_PATRON)
    patron = patron_by_barcode(uow.session, barcode)
    if actor.is_person:
        patron.staff_block = None
        patron.card_lost = False
    elif patron.staff_block is not None and patron.staff_block.startswith(TERMINAL_BLOCK_PREFIX):
        patron.staff_block = None
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="patron.unblock",
        subject=uow.env.pseudonyms.patron(patron.id),
    )
    return _view_by_id(uow, patron.id, now)


def require_patron(uow: UnitOfWork, barcode: str) -> int:
    """The patron's id, or NotFound (for callers that act on a patron they do not show)."""
    patron = uow.session.scalar(select(Patron.id).where(Patron.barcode == barcode))
    if patron is None:
        raise NotFound(Reason.PATRON_NOT_FOUND)
    return patron
