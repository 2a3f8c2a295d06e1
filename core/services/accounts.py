"""Staff and SIP2 terminal accounts: creation and authentication (PRIV-05, PRIV-09)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from core.audit import append_event
from core.errors import DomainError, ReticentError
from core.model import SipAccount, StaffUser
from core.policy.reasons import Reason
from core.services.actors import STAFF_ROLES, Actor, ActorKind, Permission, Role
from core.store.uow import Store, UnitOfWork


class AccountExists(ReticentError):
    """An account with that name already exists."""


@dataclass(frozen=True)
class TerminalAccount:
    """A SIP2 terminal as the server needs it after login."""

    login: str
    institution_id: str
    location: str
    profile: str


def add_staff(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, username: str, role: str, password_hash: str
) -> None:
    actor.require(Permission.MANAGE_ACCOUNTS)
    if role not in {r.value for r in STAFF_ROLES}:
        raise DomainError(Reason.PERMISSION_DENIED, f"unknown role {role!r}")
    if uow.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise AccountExists(f"staff user {username!r} already exists")
    uow.session.add(
        StaffUser(username=username, role=role, password_hash=password_hash, created_at=now)
    )
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="staff.add",
        subject=None,
        detail={"username": username, "role": role},
    )


def authenticate_staff(
    store: Store, now: dt.datetime, username: str, password: str
) -> Actor | None:
    """The staff actor for a correct password, else None; the hash runs outside transactions."""
    with store.read() as uow:
        user = uow.session.scalars(
            select(StaffUser).where(StaffUser.username == username)
        ).one_or_none()
        stored = user.password_hash if user is not None and not user.disabled else None
        role = user.role if user is not None else ""
    outcome = store.env.hasher.verify(stored, password)
    if not outcome.ok:
        return None
    if outcome.new_hash is not None:
        with store.write() as uow:
            found = uow.session.scalars(
                select(StaffUser).where(StaffUser.username == username)
            ).one()
            found.password_hash = outcome.new_hash
    return Actor(ActorKind.STAFF, username, Role(role))


def add_sip_account(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    login: str,
    password_hash: str,
    *,
    institution_id: str,
    location: str = "",
    profile: str = "minimal",
) -> None:
    actor.require(Permission.MANAGE_ACCOUNTS)
    if uow.session.scalar(select(SipAccount.id).where(SipAccount.login == login)) is not None:
        raise AccountExists(f"terminal account {login!r} already exists")
    uow.session.add(
        SipAccount(
            login=login,
            password_hash=password_hash,
            institution_id=institution_id,
            location=location,
            profile=profile,
            created_at=now,
        )
    )
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="terminal.add",
        subject=None,
        detail={"login": login, "profile": profile},
    )


def authenticate_terminal(store: Store, login: str, password: str) -> TerminalAccount | None:
    """The terminal account for a correct password, else None (argon2 outside transactions)."""
    with store.read() as uow:
        account = uow.session.scalars(
            select(SipAccount).where(SipAccount.login == login)
        ).one_or_none()
        stored = account.password_hash if account is not None and account.enabled else None
        found = (
            TerminalAccount(
                account.login, account.institution_id, account.location, account.profile
            )
            if account is not None
            else None
        )
    outcome = store.env.hasher.verify(stored, password)
    if not outcome.ok or found is None:
        return None
    if outcome.new_hash is not None:
        with store.write() as uow:
            row = uow.session.scalars(select(SipAccount).where(SipAccount.login == login)).one()
            row.password_hash = outcome.new_hash
    return found


@dataclass(frozen=True)
class TerminalCredentials:
    """A terminal account with its stored hash, for a login checked outside the transaction."""

    account: TerminalAccount
    password_hash: str


def load_terminal(uow: UnitOfWork, login: str) -> TerminalCredentials | None:
    """The enabled terminal account with this login, or None."""
    row = uow.session.scalars(select(SipAccount).where(SipAccount.login == login)).one_or_none()
    if row is None or not row.enabled:
        return None
    account = TerminalAccount(row.login, row.institution_id, row.location, row.profile)
    return TerminalCredentials(account, row.password_hash)
