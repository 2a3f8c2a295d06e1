"""Opt-in consents: grant, withdraw (destroying what was collected under them), show (PRIV-02)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import delete, select

from core.audit import append_event
from core.model import Base, Consent, ReadingHistory
from core.model.notices import SentNotice
from core.model.privacy import ConsentEvent
from core.policy.consent_kinds import (
    CHECKOUT_HISTORY,
    DATA_SHARING_PREFIX,
    HOLD_SHELF_NAME,
    NOTIFICATION_HISTORY,
)
from core.privacy.destruction import record_destruction
from core.privacy.policy import PrivacyRequestError, check_channel, current_policy_version
from core.privacy.training import require_training
from core.services._queries import patron_by_barcode
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

FIXED_KINDS = (CHECKOUT_HISTORY, NOTIFICATION_HISTORY, HOLD_SHELF_NAME)
_RECIPIENT = re.compile(r"[a-z0-9_-]{1,40}")

# PRIV-02: what was collected under a consent and is destroyed when it is withdrawn. Kinds not
# listed collect nothing of their own: the consent row itself is the permission.
COLLECTED_UNDER: Mapping[str, type[Base]] = MappingProxyType(
    {CHECKOUT_HISTORY: ReadingHistory, NOTIFICATION_HISTORY: SentNotice}
)


def check_kind(kind: str) -> str:
    """The kind itself when it is one this library knows, else PrivacyRequestError."""
    if kind in FIXED_KINDS:
        return kind
    if kind.startswith(DATA_SHARING_PREFIX) and _RECIPIENT.fullmatch(
        kind[len(DATA_SHARING_PREFIX) :]
    ):
        return kind
    raise PrivacyRequestError(
        f"unknown consent kind {kind!r} (known: {', '.join(FIXED_KINDS)},"
        f" {DATA_SHARING_PREFIX}<recipient> with a recipient of a-z, 0-9, '_' or '-')"
    )


@dataclass(frozen=True)
class ConsentView:
    """A consent currently given."""

    kind: str
    granted_at: dt.datetime
    policy_version: str | None
    channel: str


@dataclass(frozen=True)
class ConsentEventView:
    """One grant or withdrawal in the consent history."""

    kind: str
    granted: bool
    at: dt.datetime
    channel: str
    actor: str
    policy_version: str | None


@dataclass(frozen=True)
class ConsentReport:
    """A patron's consents now, and how they came to be."""

    current: tuple[ConsentView, ...]
    history: tuple[ConsentEventView, ...]


@dataclass(frozen=True)
class ConsentChange:
    """The outcome of a grant or withdrawal; `deleted` counts rows destroyed by a withdrawal."""

    kind: str
    granted: bool
    changed: bool
    deleted: int = 0


def _record(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    patron_id: int,
    *,
    kind: str,
    granted: bool,
    channel: str,
    policy_version: str | None,
    deleted: int,
) -> None:
    uow.session.add(
        ConsentEvent(
            patron_id=patron_id,
            kind=kind,
            granted=granted,
            policy_version=policy_version,
            at=now,
            channel=channel,
            actor=actor.label,
        )
    )
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="consent.grant" if granted else "consent.withdraw",
        subject=uow.env.pseudonyms.patron(patron_id),
        detail={"kind": kind, "channel": channel, "deleted": deleted},
    )


def grant_consent(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str, kind: str, channel: str
) -> ConsentChange:
    """Record an explicit opt-in; granting what is already granted changes nothing."""
    actor.require(Permission.MANAGE_CONSENT)
    check_kind(kind)
    check_channel(channel)
    session = uow.session
    patron = patron_by_barcode(session, barcode)
    existing = session.scalar(
        select(Consent.id).where(Consent.patron_id == patron.id, Consent.kind == kind)
    )
    if existing is not None:
        return ConsentChange(kind, granted=True, changed=False)
    version = current_policy_version(session, now)
    session.add(
        Consent(
            patron_id=patron.id,
            kind=kind,
            granted_at=now,
            policy_version=version,
            channel=channel,
        )
    )
    _record(
        uow,
        actor,
        now,
        patron.id,
        kind=kind,
        granted=True,
        channel=channel,
        policy_version=version,
        deleted=0,
    )
    return ConsentChange(kind, granted=True, changed=True)


def _destroy_collected(uow: UnitOfWork, patron_id: int, kind: str) -> int:
    table = COLLECTED_UNDER.get(kind)
    if table is None:
        return 0
    columns = table.__table__.c
    session = uow.session
    ids = list(session.scalars(select(columns.id).where(columns.patron_id == patron_id)))
    if ids:
        # PRIV-07: no restore brings them back (core/privacy/destruction.py).
        record_destruction(session, table, ids)
        session.execute(
            delete(table).where(columns.patron_id == patron_id),
            execution_options={"synchronize_session": False},
        )
        session.expire_all()  # no ORM object of a deleted row may linger in this transaction
    return len(ids)


def withdraw_consent(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str, kind: str, channel: str
) -> ConsentChange:
    """Withdraw an opt-in and, in the same transaction, destroy what was kept under it (PRIV-02).

    The data is destroyed even when no consent row is found, so a withdrawal always leaves
    nothing behind.
    """
    actor.require(Permission.MANAGE_CONSENT)
    check_kind(kind)
    check_channel(channel)
    session = uow.session
    patron = patron_by_barcode(session, barcode)
    consent = session.scalars(
        select(Consent).where(Consent.patron_id == patron.id, Consent.kind == kind)
    ).one_or_none()
    if consent is not None:
        record_destruction(session, Consent, [consent.id])
        session.delete(consent)
        session.flush()
    deleted = _destroy_collected(uow, patron.id, kind)
    if consent is None and deleted == 0:
        return ConsentChange(kind, granted=False, changed=False)
    _record(
        uow,
        actor,
        now,
        patron.id,
        kind=kind,
        granted=False,
        channel=channel,
        policy_version=current_policy_version(session, now),
        deleted=deleted,
    )
    return ConsentChange(kind, granted=False, changed=consent is not None, deleted=deleted)


def consent_show(uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str) -> ConsentReport:
    """A patron's current consents and their history; the look is audited (PRIV-05)."""
    actor.require(Permission.MANAGE_CONSENT)
    require_training(uow, actor, now)  # PRIV-15: no patron data before the training
    session = uow.session
    patron = patron_by_barcode(session, barcode)
    current = tuple(
        ConsentView(c.kind, c.granted_at, c.policy_version, c.channel)
        for c in session.scalars(
            select(Consent).where(Consent.patron_id == patron.id).order_by(Consent.kind)
        )
    )
    history = tuple(
        ConsentEventView(e.kind, e.granted, e.at, e.channel, e.actor, e.policy_version)
        for e in session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.patron_id == patron.id)
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
    )
    append_event(
        session,
        now=now,
        actor=actor.label,
        action="consent.view",
        subject=uow.env.pseudonyms.patron(patron.id),
    )
    return ConsentReport(current, history)
