"""SSH access for staff: public keys, single-use session tickets, and the audit of sign-ins."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from core.audit import append_event
from core.errors import ReticentError
from core.model import SessionTicket, StaffKey, StaffUser
from core.services.actors import Actor, ActorKind, Permission, Role
from core.store.uow import UnitOfWork

# The gateway writes the ticket and starts the session's process at once: a few seconds is
# ample, and a ticket seen later (in a crash dump, say) is worth nothing.
TICKET_TTL = dt.timedelta(seconds=10)
_TICKET_BYTES = 32


class TicketRefused(ReticentError):
    """The ticket is unknown, used already, expired, or its account is disabled."""


class StaffKeyError(ReticentError):
    """A public key cannot be added or removed."""


@dataclass(frozen=True)
class StaffKeyView:
    """A registered key as listed: whose, its fingerprint, when it was added."""

    username: str
    fingerprint: str
    added_at: dt.datetime


@dataclass(frozen=True)
class SessionGrant:
    """Who a session started with a ticket serves, and the session id for the audit log."""

    actor: Actor
    session_id: str


def _user(uow: UnitOfWork, username: str) -> StaffUser:
    user = uow.session.scalars(
        select(StaffUser).where(StaffUser.username == username)
    ).one_or_none()
    if user is None:
        raise StaffKeyError(f"no staff user {username!r}")
    return user


def add_staff_key(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    username: str,
    public_key: str,
    fingerprint: str,
) -> StaffKeyView:
    """Register a public key (OpenSSH format, already parsed by the caller) for a staff user."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    user = _user(uow, username)
    if uow.session.scalar(select(StaffKey.id).where(StaffKey.fingerprint == fingerprint)):
        raise StaffKeyError(f"key {fingerprint} is registered already")
    uow.session.add(
        StaffKey(staff_id=user.id, public_key=public_key, fingerprint=fingerprint, added_at=now)
    )
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="staff.key_add",
        subject=None,
        detail={"username": username, "fingerprint": fingerprint},
    )
    return StaffKeyView(username, fingerprint, now)


def remove_staff_key(uow: UnitOfWork, actor: Actor, now: dt.datetime, fingerprint: str) -> None:
    actor.require(Permission.MANAGE_ACCOUNTS)
    row = uow.session.scalars(
        select(StaffKey).where(StaffKey.fingerprint == fingerprint)
    ).one_or_none()
    if row is None:
        raise StaffKeyError(f"no key {fingerprint}")
    uow.session.delete(row)
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="staff.key_remove",
        subject=None,
        detail={"fingerprint": fingerprint},
    )


def list_staff_keys(uow: UnitOfWork, actor: Actor) -> tuple[StaffKeyView, ...]:
    actor.require(Permission.MANAGE_ACCOUNTS)
    rows = uow.session.execute(
        select(StaffUser.username, StaffKey.fingerprint, StaffKey.added_at)
        .join(StaffUser, StaffUser.id == StaffKey.staff_id)
        .order_by(StaffUser.username, StaffKey.added_at)
    )
    return tuple(StaffKeyView(*row) for row in rows)


def keys_for_login(uow: UnitOfWork, username: str) -> tuple[str, ...]:
    """The public keys an enabled staff user may sign in with (none for a disabled account)."""
    return tuple(
        uow.session.scalars(
            select(StaffKey.public_key)
            .join(StaffUser, StaffUser.id == StaffKey.staff_id)
            .where(StaffUser.username == username, StaffUser.disabled.is_(False))
        )
    )


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("ascii", "replace")).hexdigest()


def issue_ticket(uow: UnitOfWork, now: dt.datetime, username: str, session_id: str) -> str:
    """A ticket that starts one terminal UI session for `username`, valid for TICKET_TTL.

    Only its hash is stored; expired tickets left by sessions that never started go now.
    """
    user = _user(uow, username)
    uow.session.execute(delete(SessionTicket).where(SessionTicket.expires_at < now))
    ticket = secrets.token_urlsafe(_TICKET_BYTES)
    uow.session.add(
        SessionTicket(
            ticket_hash=_digest(ticket),
            staff_id=user.id,
            session_id=session_id[:64],
            expires_at=now + TICKET_TTL,
        )
    )
    return ticket


def redeem_ticket(uow: UnitOfWork, now: dt.datetime, ticket: str) -> SessionGrant:
    """Consume a ticket: once only, before it expires, for an account still enabled."""
    row = uow.session.scalars(
        select(SessionTicket).where(SessionTicket.ticket_hash == _digest(ticket))
    ).one_or_none()
    if row is None:
        raise TicketRefused("session ticket not accepted")
    uow.session.delete(row)
    user = uow.session.get(StaffUser, row.staff_id)
    if row.expires_at < now or user is None or user.disabled:
        raise TicketRefused("session ticket not accepted")
    return SessionGrant(Actor(ActorKind.STAFF, user.username, Role(user.role)), row.session_id)


def audit_sign_in(
    uow: UnitOfWork,
    now: dt.datetime,
    action: str,
    *,
    username: str,
    source: str,
    session_id: str = "",
    method: str = "",
) -> None:
    """Record an SSH sign-in, sign-out or failure with the source address (PRIV-05, PRIV-15)."""
    detail: dict[str, str | int | bool | None] = {"username": username[:64], "source": source}
    if session_id:
        detail["session_id"] = session_id
    if method:
        detail["method"] = method
    append_event(
        uow.session, now=now, actor="system:ssh", action=action, subject=None, detail=detail
    )

