"""The patron record at the desk: audited view, editable fields, note, PIN (PRIV-05, -06, -09)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from core.audit import append_event
from core.errors import ReticentError
from core.model import Consent, Patron
from core.model.patrons import NOTE_MAX_CHARS
from core.policy.calendar import local_date
from core.policy.secret_rules import PinRule
from core.privacy.consents import COLLECTED_UNDER, check_kind
from core.privacy.policy import current_policy_version
from core.services._queries import patron_by_barcode
from core.services.actors import Actor, Permission
from core.services.patrons import find_patron
from core.services.views import PatronView
from core.store.uow import Store, UnitOfWork

__all__ = [
    "NOTE_MAX_CHARS",
    "NOTE_MAX_DAYS",
    "PatronEdit",
    "PatronEditError",
    "PatronRecord",
    "WithdrawalPreview",
    "choose_pin",
    "edit_patron",
    "patron_record",
    "reset_pin",
    "set_note",
    "withdrawal_preview",
]

# PRIV-06: a note is for something the desk must know for a while, not a file on the patron.
NOTE_MAX_DAYS = 365
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()./-]{5,32}")
_NAME_MAX_CHARS = 100

# What each kind of consent keeps, in words for the confirmation before a withdrawal (PRIV-02).
_COLLECTED_WORDS = {
    "checkout_history": "reading history entries",
    "notification_history": "sent notice records",
}


class PatronEditError(ReticentError):
    """A field value the patron record cannot take; the message names the field, not the value."""


@dataclass(frozen=True)
class PatronRecord:
    """The record as the desk shows it: the view plus the note's expiry, consents and policy."""

    patron: PatronView
    note_expires_on: dt.date | None
    consents: tuple[str, ...]
    policy_in_force: str | None
    policy_acknowledged: str | None

    @property
    def needs_acknowledgement(self) -> bool:
        """PRIV-01: a policy is in force and this patron has not acknowledged that version."""
        return self.policy_in_force is not None and self.policy_acknowledged != self.policy_in_force


@dataclass(frozen=True)
class PatronEdit:
    """New values for the fields staff may change; None leaves a field as it is."""

    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None  # "" removes it
    phone: str | None = None  # "" removes it


@dataclass(frozen=True)
class WithdrawalPreview:
    """What withdrawing a consent destroys, said before staff confirm (PRIV-02)."""

    kind: str
    rows: int
    what: str

    @property
    def sentence(self) -> str:
        if not self.what:
            return f"Withdrawing {self.kind} stops it from now on; nothing else is kept under it."
        return f"Withdrawing {self.kind} destroys {self.rows} {self.what} now, for good."


def patron_record(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    barcode: str,
    *,
    session_id: str | None = None,
) -> PatronRecord:
    """The record for the patron screen; the view is audited once per session (PRIV-05)."""
    view = find_patron(uow, actor, now, barcode, session_id=session_id)
    session = uow.session
    note_expires, acknowledged = session.execute(
        select(Patron.note_expires_on, Patron.policy_version).where(Patron.id == view.patron_id)
    ).one()
    consents = tuple(
        session.scalars(
            select(Consent.kind).where(Consent.patron_id == view.patron_id).order_by(Consent.kind)
        )
    )
    return PatronRecord(
        patron=view,
        note_expires_on=note_expires,
        consents=consents,
        policy_in_force=current_policy_version(session, now),
        policy_acknowledged=acknowledged,
    )


def _checked(field: str, value: str, pattern: re.Pattern[str] | None, limit: int) -> str:
    value = value.strip()
    if len(value) > limit or not value.isprintable():
        raise PatronEditError(f"{field}: at most {limit} printable characters")
    if pattern is not None and value and pattern.fullmatch(value) is None:
        raise PatronEditError(f"{field}: not a valid {field}")
    return value


def edit_patron(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str, edit: PatronEdit
) -> PatronView:
    """Change names or contact details; audited with the names of the fields changed only."""
    actor.require(Permission.EDIT_PATRON)
    patron = patron_by_barcode(uow.session, barcode)
    changed: list[str] = []
    for field, pattern, limit, required in (
        ("given_name", None, _NAME_MAX_CHARS, True),
        ("family_name", None, _NAME_MAX_CHARS, True),
        ("email", _EMAIL, 254, False),
        ("phone", _PHONE, 32, False),
    ):
        value = getattr(edit, field)
        if value is None:
            continue
        clean = _checked(field.replace("_", " "), value, pattern, limit)
        if required and not clean:
            raise PatronEditError(f"{field.replace('_', ' ')}: must not be empty")
        new = clean if clean or required else None
        if getattr(patron, field) != new:
            setattr(patron, field, new)
            changed.append(field)
    if changed:
        append_event(
            uow.session,
            now=now,
            actor=actor.label,
            action="patron.edit",
            subject=uow.env.pseudonyms.patron(patron.id),
            detail={"fields": ",".join(changed)},
        )
    return find_patron(uow, actor, now, barcode)


def set_note(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    barcode: str,
    note: str,
    expires_on: dt.date | None,
) -> None:
    """Set (or with an empty text, clear) the staff note; a note always has an expiry (PRIV-06)."""
    actor.require(Permission.EDIT_PATRON)
    patron = patron_by_barcode(uow.session, barcode)
    text = note.strip()
    if text:
        today = local_date(now, uow.env.rules.calendar)
        if expires_on is None or not today < expires_on <= today + dt.timedelta(NOTE_MAX_DAYS):
            raise PatronEditError(
                f"note: give an expiry date after today and at most {NOTE_MAX_DAYS} days ahead"
            )
        if len(text) > NOTE_MAX_CHARS:
            raise PatronEditError(f"note: at most {NOTE_MAX_CHARS} characters")
        patron.note, patron.note_expires_on = text, expires_on
    else:
        patron.note, patron.note_expires_on = None, None
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="patron.note",
        subject=uow.env.pseudonyms.patron(patron.id),
        detail={"cleared": not text},
    )


def withdrawal_preview(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str, kind: str
) -> WithdrawalPreview:
    """How many rows a withdrawal of `kind` would destroy, before staff confirm it."""
    actor.require(Permission.MANAGE_CONSENT)
    check_kind(kind)
    patron = patron_by_barcode(uow.session, barcode)
    table = COLLECTED_UNDER.get(kind)
    if table is None:
        return WithdrawalPreview(kind, 0, "")
    column = table.__table__.c.patron_id
    rows = uow.session.scalar(select(func.count()).where(column == patron.id)) or 0
    return WithdrawalPreview(kind, int(rows), _COLLECTED_WORDS.get(kind, "rows"))


def reset_pin(uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str) -> None:
    """Staff force a reset: the PIN is removed and the patron must choose a new one (PRIV-09)."""
    actor.require(Permission.EDIT_PATRON)
    patron = patron_by_barcode(uow.session, barcode)
    patron.pin_hash = None
    patron.pin_rule = None
    patron.pin_failed_attempts = 0
    patron.pin_locked_until = None
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="patron.pin_reset",
        subject=uow.env.pseudonyms.patron(patron.id),
    )


def choose_pin(
    store: Store, actor: Actor, now: dt.datetime, barcode: str, pin: str, rule: PinRule
) -> None:
    """Store the PIN the patron typed (twice, on a screen staff do not see; PRIV-09).

    The PIN must meet `rule` (WeakSecret says why, never repeating it). The argon2 hash runs
    outside any transaction so writers never wait for it; the PIN itself is neither logged,
    audited nor kept anywhere but as its hash, with the label of the rule it was set under.
    """
    actor.require(Permission.EDIT_PATRON)
    rule.require(pin)
    pin_hash = store.env.hasher.hash(pin)
    with store.write() as uow:
        patron = patron_by_barcode(uow.session, barcode)
        patron.pin_hash = pin_hash
        patron.pin_rule = rule.label
        patron.pin_failed_attempts = 0
        patron.pin_locked_until = None
        append_event(
            uow.session,
            now=now,
            actor=actor.label,
            action="patron.pin_set",
            subject=uow.env.pseudonyms.patron(patron.id),
        )
