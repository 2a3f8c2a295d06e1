"""Staff training gate: no patron data for staff who have not acknowledged the policy (PRIV-15)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import append_event
from core.errors import DomainError
from core.model import StaffUser
from core.policy.reasons import Reason
from core.privacy.policy import PrivacyRequestError, current_policy_version
from core.services.actors import Actor, ActorKind, Permission
from core.store.uow import UnitOfWork

TRAINING_REQUIRED = "training acknowledgement required"


def require_training(uow: UnitOfWork, actor: Actor, now: dt.datetime) -> None:
    """Refuse a staff member whose acknowledged training is not the policy version in force.

    Only ActorKind.STAFF is gated: terminals are not people, the system is not either, and the
    local administrator (ActorKind.ADMIN) is whoever holds the key file at the appliance's
    command line, who could read the database directly anyway; the self-audit lists staff
    accounts that still need training instead. Before any policy is published nothing is gated.
    """
    if actor.kind is not ActorKind.STAFF:
        return
    version = current_policy_version(uow.session, now)
    if version is None:
        return
    acknowledged = uow.session.scalar(
        select(StaffUser.training_version).where(StaffUser.username == actor.name)
    )
    if acknowledged != version:
        raise DomainError(Reason.PERMISSION_DENIED, TRAINING_REQUIRED)


def acknowledge_training(uow: UnitOfWork, actor: Actor, now: dt.datetime, username: str) -> str:
    """Record that `username` acknowledged the policy in force; returns its version. Audited.

    Staff acknowledge for themselves; an administrator (MANAGE_ACCOUNTS) may record it for
    anyone, as from a signed training sheet.
    """
    if not (actor.kind is ActorKind.STAFF and actor.name == username):
        actor.require(Permission.MANAGE_ACCOUNTS)
    session = uow.session
    version = current_policy_version(session, now)
    if version is None:
        raise PrivacyRequestError("no privacy policy is in force yet: nothing to acknowledge")
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one_or_none()
    if user is None:
        raise PrivacyRequestError(f"no staff user {username!r}")
    user.training_version = version
    append_event(
        session,
        now=now,
        actor=actor.label,
        action="staff.training_ack",
        subject=None,
        detail={"username": username, "version": version},
    )
    return version


def staff_needing_training(session: Session, now: dt.datetime) -> list[str]:
    """Usernames of enabled staff accounts that must acknowledge the policy in force."""
    version = current_policy_version(session, now)
    if version is None:
        return []
    return list(
        session.scalars(
            select(StaffUser.username)
            .where(
                StaffUser.disabled.is_(False),
                (StaffUser.training_version.is_(None)) | (StaffUser.training_version != version),
            )
            .order_by(StaffUser.username)
        )
    )
