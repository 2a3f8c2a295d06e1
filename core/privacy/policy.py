"""Privacy policy versions: publish, find the one in force, record acknowledgements (PRIV-01)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import append_event
from core.errors import ReticentError
from core.model import Patron
from core.model.privacy import VERSION_MAX_CHARS, PolicyAck, PolicyVersion
from core.services._queries import patron_by_barcode
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

# How a patron acknowledged a policy or gave a consent (PRIV-01, PRIV-02).
CHANNELS = ("desk", "kiosk", "web")
# Terminals act only for the patron standing at them, so only this channel is theirs.
TERMINAL_CHANNEL = "kiosk"

_VERSION = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{VERSION_MAX_CHARS - 1}}}")


class PrivacyRequestError(ReticentError):
    """A privacy-engine request is malformed or impossible (unknown kind, channel or version)."""


@dataclass(frozen=True)
class PolicyView:
    """A published policy version."""

    version: str
    effective_on: dt.date
    sha256: str
    published_at: dt.datetime
    text: str


@dataclass(frozen=True)
class PolicyStatus:
    """How many patrons acknowledged the version in force, and how many still have to."""

    version: str | None
    effective_on: dt.date | None
    acknowledged: int
    needing_acknowledgement: int
    upcoming: str | None  # a version published with a later effective date, if any


def _view(row: PolicyVersion) -> PolicyView:
    return PolicyView(row.version, row.effective_on, row.sha256, row.published_at, row.text)


def _today(now: dt.datetime) -> dt.date:
    # Effective dates are UTC days, so every process (and the self-audit, which has no
    # calendar) agrees on which version is in force.
    return now.astimezone(dt.UTC).date()


def text_digest(text: str) -> str:
    """The sha256 of a policy text as published (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise PrivacyRequestError(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
    return channel


def _current_row(session: Session, now: dt.datetime) -> PolicyVersion | None:
    return session.scalars(
        select(PolicyVersion)
        .where(PolicyVersion.effective_on <= _today(now))
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        .limit(1)
    ).one_or_none()


def current_policy(session: Session, now: dt.datetime) -> PolicyView | None:
    """The latest version whose effective date has come, or None before any was published."""
    row = _current_row(session, now)
    return None if row is None else _view(row)


def current_policy_version(session: Session, now: dt.datetime) -> str | None:
    """Only the name of the version in force (what patrons and staff must have acknowledged)."""
    return session.scalar(
        select(PolicyVersion.version)
        .where(PolicyVersion.effective_on <= _today(now))
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        .limit(1)
    )


def publish_policy(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    text: str,
    version: str,
    effective_on: dt.date,
) -> PolicyView:
    """Publish a new version; from its effective date every patron needs to acknowledge it.

    Needs PUBLISH_POLICY (the privacy officer or the administrator): publishing changes what the
    whole instance requires of patrons and staff, so circulation staff may not.
    """
    actor.require(Permission.PUBLISH_POLICY)
    if not _VERSION.fullmatch(version):
        raise PrivacyRequestError(
            f"policy version must be 1-{VERSION_MAX_CHARS} letters, digits, '.', '_' or '-'"
        )
    if not text.strip():
        raise PrivacyRequestError("policy text is empty")
    session = uow.session
    if session.scalar(select(PolicyVersion.id).where(PolicyVersion.version == version)) is not None:
        raise PrivacyRequestError(f"policy version {version!r} was already published")
    latest = session.scalar(select(func.max(PolicyVersion.effective_on)))
    if latest is not None and effective_on < latest:
        # Versions take effect in the order they are published; anything else would make
        # an older text current again, or never current at all.
        raise PrivacyRequestError(
            f"effective date {effective_on.isoformat()} is before that of a published version"
            f" ({latest.isoformat()})"
        )
    row = PolicyVersion(
        version=version,
        effective_on=effective_on,
        text=text,
        sha256=text_digest(text),
        published_at=now,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        now=now,
        actor=actor.label,
        action="policy.publish",
        subject=None,
        detail={"version": version, "effective_on": effective_on.isoformat(), "sha256": row.sha256},
    )
    return _view(row)


def acknowledge_policy(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, patron_barcode: str, channel: str
) -> PolicyView:
    """Record that a patron acknowledged the version in force, and through which channel."""
    if actor.is_person:
        actor.require(Permission.MANAGE_CONSENT)
    else:
        actor.require(Permission.CIRCULATE)
        if channel != TERMINAL_CHANNEL:
            raise PrivacyRequestError(
                f"a terminal records acknowledgements as {TERMINAL_CHANNEL!r}"
            )
    check_channel(channel)
    session = uow.session
    current = _current_row(session, now)
    if current is None:
        raise PrivacyRequestError("no privacy policy is in force yet")
    patron = patron_by_barcode(session, patron_barcode)
    patron.policy_version = current.version
    session.add(
        PolicyAck(
            patron_id=patron.id, version=current.version, channel=channel, acknowledged_at=now
        )
    )
    append_event(
        session,
        now=now,
        actor=actor.label,
        action="policy.acknowledge",
        subject=uow.env.pseudonyms.patron(patron.id),
        detail={"version": current.version, "channel": channel},
    )
    return _view(current)


def patron_needs_acknowledgement(session: Session, now: dt.datetime, patron_id: int) -> bool:
    """Whether staff screens and the kiosk should ask this patron to acknowledge the policy."""
    version = current_policy_version(session, now)
    if version is None:
        return False
    acknowledged = session.scalar(select(Patron.policy_version).where(Patron.id == patron_id))
    return acknowledged != version


def policy_status(session: Session, now: dt.datetime) -> PolicyStatus:
    """Counts only: who acknowledged the version in force and who still needs to (PRIV-01)."""
    current = _current_row(session, now)
    upcoming = session.scalar(
        select(PolicyVersion.version)
        .where(PolicyVersion.effective_on > _today(now))
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    if current is None:
        return PolicyStatus(None, None, 0, 0, upcoming)
    total = session.scalar(select(func.count(Patron.id))) or 0
    acknowledged = (
        session.scalar(
            select(func.count(Patron.id)).where(Patron.policy_version == current.version)
        )
        or 0
    )
    return PolicyStatus(
        current.version, current.effective_on, acknowledged, total - acknowledged, upcoming
    )
