"""Staff and SIP2 terminal accounts: creation, management and authentication (PRIV-05, PRIV-09).

Secrets arrive here already hashed (argon2 runs outside transactions); the caller checks a new
secret against its rule first (`core.policy.secret_rules`) and passes the rule's label, which is
stored beside the hash so the self-audit can name secrets set before a stricter rule. A removed
account stays as a tombstone: its name keeps the audit trail readable, its password is gone, and
the name cannot be given to someone else.
"""

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
    """An account with that name already exists (or existed: removed names are not reused)."""


class UnknownAccount(ReticentError):
    """No account with that name, or it was removed."""


# What a removed account's password hash becomes: no argon2 hash, so nothing ever verifies.
REMOVED_SECRET = "!removed"  # noqa: S105 (a marker, not a password)


@dataclass(frozen=True)
class StaffAccountView:
    """A staff account as listed to an administrator: never its password or hash."""

    username: str
    role: str
    enabled: bool
    training_version: str | None
    secret_rule: str | None
    created_at: dt.datetime
    removed_at: dt.datetime | None


@dataclass(frozen=True)
class TerminalAccountView:
    """A SIP2 terminal account as listed to an administrator: never its password or hash."""

    login: str
    institution_id: str
    location: str
    profile: str
    enabled: bool
    secret_rule: str | None
    created_at: dt.datetime
    removed_at: dt.datetime | None


@dataclass(frozen=True)
class TerminalAccount:
    """A SIP2 terminal as the server needs it after login."""

    login: str
    institution_id: str
    location: str
    profile: str


def add_staff(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    username: str,
    role: str,
    password_hash: str,
    *,
    secret_rule: str | None = None,
) -> None:
    actor.require(Permission.MANAGE_ACCOUNTS)
    if role not in {r.value for r in STAFF_ROLES}:
        raise DomainError(Reason.PERMISSION_DENIED, f"unknown role {role!r}")
    existing = uow.session.scalars(
        select(StaffUser).where(StaffUser.username == username)
    ).one_or_none()
    if existing is not None:
        raise AccountExists(_taken("staff user", username, existing.removed_at))
    uow.session.add(
        StaffUser(
            username=username,
            role=role,
            password_hash=password_hash,
            secret_rule=secret_rule,
            created_at=now,
        )
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
    secret_rule: str | None = None,
) -> None:
    actor.require(Permission.MANAGE_ACCOUNTS)
    existing = uow.session.scalars(
        select(SipAccount).where(SipAccount.login == login)
    ).one_or_none()
    if existing is not None:
        raise AccountExists(_taken("terminal account", login, existing.removed_at))
    uow.session.add(
        SipAccount(
            login=login,
            password_hash=password_hash,
            secret_rule=secret_rule,
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


def _taken(kind: str, name: str, removed_at: dt.datetime | None) -> str:
    if removed_at is None:
        return f"{kind} {name!r} already exists"
    # The audit trail names the old account; a new one with the same name would be confused.
    return f"{kind} {name!r} was removed on {removed_at:%Y-%m-%d}; its name is not reused"


def terminal_enabled(uow: UnitOfWork, login: str) -> bool:
    """Whether a terminal account may still be used: one indexed read, for open sessions to
    check often (a disabled or removed terminal's sessions are closed)."""
    enabled = uow.session.scalar(
        select(SipAccount.enabled).where(
            SipAccount.login == login, SipAccount.removed_at.is_(None)
        )
    )
    return bool(enabled)


def list_staff(uow: UnitOfWork, actor: Actor) -> list[StaffAccountView]:
    """Every staff account, removed ones included (they are tombstones)."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    rows = uow.session.scalars(select(StaffUser).order_by(StaffUser.username))
    return [
        StaffAccountView(
            username=row.username,
            role=row.role,
            enabled=not row.disabled and row.removed_at is None,
            training_version=row.training_version,
            secret_rule=row.secret_rule,
            created_at=row.created_at,
            removed_at=row.removed_at,
        )
        for row in rows
    ]


def list_terminals(uow: UnitOfWork, actor: Actor) -> list[TerminalAccountView]:
    """Every terminal account, removed ones included (they are tombstones)."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    rows = uow.session.scalars(select(SipAccount).order_by(SipAccount.login))
    return [
        TerminalAccountView(
            login=row.login,
            institution_id=row.institution_id,
            location=row.location,
            profile=row.profile,
            enabled=row.enabled and row.removed_at is None,
            secret_rule=row.secret_rule,
            created_at=row.created_at,
            removed_at=row.removed_at,
        )
        for row in rows
    ]


def _live_staff(uow: UnitOfWork, username: str) -> StaffUser:
    row = uow.session.scalars(
        select(StaffUser).where(StaffUser.username == username)
    ).one_or_none()
    if row is None or row.removed_at is not None:
        raise UnknownAccount(f"no staff user {username!r}")
    return row


def _live_terminal(uow: UnitOfWork, login: str) -> SipAccount:
    row = uow.session.scalars(select(SipAccount).where(SipAccount.login == login)).one_or_none()
    if row is None or row.removed_at is not None:
        raise UnknownAccount(f"no terminal account {login!r}")
    return row


def _audit_account(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, action: str, detail: dict[str, str]
) -> None:
    append_event(
        uow.session, now=now, actor=actor.label, action=action, subject=None, detail=detail
    )


def set_staff_enabled(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, username: str, *, enabled: bool
) -> bool:
    """Disable or re-enable a staff account; returns whether anything changed. Audited."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    row = _live_staff(uow, username)
    if row.disabled == (not enabled):
        return False
    row.disabled = not enabled
    action = "staff.enable" if enabled else "staff.disable"
    _audit_account(uow, actor, now, action, {"username": username})
    return True


def set_staff_password(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    username: str,
    password_hash: str,
    *,
    secret_rule: str,
) -> None:
    """Replace a staff password (hashed by the caller after the rule check). Audited."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    row = _live_staff(uow, username)
    row.password_hash = password_hash
    row.secret_rule = secret_rule
    _audit_account(uow, actor, now, "staff.passwd", {"username": username})


def remove_staff(uow: UnitOfWork, actor: Actor, now: dt.datetime, username: str) -> None:
    """Remove a staff account, leaving a tombstone: the name stays, the password goes."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    row = _live_staff(uow, username)
    row.password_hash = REMOVED_SECRET
    row.secret_rule = None
    row.disabled = True
    row.removed_at = now
    _audit_account(uow, actor, now, "staff.remove", {"username": username})


def set_terminal_enabled(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, login: str, *, enabled: bool
) -> bool:
    """Disable or re-enable a terminal account; returns whether anything changed. Audited.

    A disabled terminal's logins are refused at once; the SIP2 server closes its open sessions
    when it next checks `terminal_enabled`.
    """
    actor.require(Permission.MANAGE_ACCOUNTS)
    row = _live_terminal(uow, login)
    if row.enabled == enabled:
        return False
    row.enabled = enabled
    action = "terminal.enable" if enabled else "terminal.disable"
    _audit_account(uow, actor, now, action, {"login": login})
    return True


def set_terminal_password(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    login: str,
    password_hash: str,
    *,
    secret_rule: str,
) -> None:
    """Replace a terminal password (hashed by the caller after the rule check). Audited."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    row = _live_terminal(uow, login)
    row.password_hash = password_hash
    row.secret_rule = secret_rule
    _audit_account(uow, actor, now, "terminal.passwd", {"login": login})


def remove_terminal(uow: UnitOfWork, actor: Actor, now: dt.datetime, login: str) -> None:
    """Remove a terminal account, leaving a tombstone (see the module doc). Audited."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    row = _live_terminal(uow, login)
    row.password_hash = REMOVED_SECRET
    row.secret_rule = None
    row.enabled = False
    row.removed_at = now
    _audit_account(uow, actor, now, "terminal.remove", {"login": login})
def store_terminal_rehash(uow: UnitOfWork, login: str, new_hash: str) -> None:
    """Replace a terminal's password hash after a login under new argon2 parameters (PRIV-09)."""
    row = uow.session.scalars(select(SipAccount).where(SipAccount.login == login)).one_or_none()
    if row is not None:
        row.password_hash = new_hash
