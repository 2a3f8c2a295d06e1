"""Who acts (staff user, SIP2 terminal, local administrator, system) and what each role may do."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.errors import PermissionDenied


class Role(enum.StrEnum):
    """Staff roles (PRIV-05) plus the non-human actors."""

    CIRCULATION = "circulation"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"
    TERMINAL = "terminal"
    SYSTEM = "system"


STAFF_ROLES = (Role.CIRCULATION, Role.PRIVACY_OFFICER, Role.ADMIN)


class Permission(enum.StrEnum):
    """Everything a service checks before it acts."""

    CIRCULATE = "circulate"  # checkout, checkin, renew, holds, payments
    VIEW_PATRON = "view_patron"
    EDIT_PATRON = "edit_patron"
    BLOCK_PATRON = "block_patron"
    WAIVE_FEE = "waive_fee"
    IMPORT = "import"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_CONSENT = "manage_consent"
    VIEW_READING_HISTORY = "view_reading_history"
    EXPORT_PATRON = "export_patron"
    PII_REPORTS = "pii_reports"
    LEGAL_REQUESTS = "legal_requests"
    PURGE = "purge"  # backups and restores: every patron at once
    RETENTION = "retention"  # run the retention purge now (PRIV-07)
    AUDIT_VERIFY = "audit_verify"
    PUBLISH_POLICY = "publish_policy"  # privacy policy and training versions (PRIV-01, PRIV-15)


_P = Permission
# The one permission table (PRIV-05). Reading history, exports, legal requests and reports with
# personal data belong to the privacy officer alone; the administrator runs the machine.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CIRCULATION: frozenset(
        {_P.CIRCULATE, _P.VIEW_PATRON, _P.EDIT_PATRON, _P.BLOCK_PATRON, _P.MANAGE_CONSENT}
    ),
    Role.PRIVACY_OFFICER: frozenset(
        {
            _P.VIEW_PATRON,
            _P.MANAGE_CONSENT,
            _P.VIEW_READING_HISTORY,
            _P.EXPORT_PATRON,
            _P.PII_REPORTS,
            _P.LEGAL_REQUESTS,
            _P.AUDIT_VERIFY,
            _P.PUBLISH_POLICY,
            _P.RETENTION,
        }
    ),
    Role.ADMIN: frozenset(
        {
            _P.CIRCULATE,
            _P.VIEW_PATRON,
            _P.EDIT_PATRON,
            _P.BLOCK_PATRON,
            _P.WAIVE_FEE,
            _P.IMPORT,
            _P.MANAGE_ACCOUNTS,
            _P.MANAGE_CONSENT,
            _P.PURGE,
            _P.RETENTION,
            _P.AUDIT_VERIFY,
            _P.PUBLISH_POLICY,
        }
    ),
    Role.TERMINAL: frozenset({_P.CIRCULATE, _P.BLOCK_PATRON}),
    # CIRCULATE: the daily hold expiry returns lapsed copies from the hold shelf.
    Role.SYSTEM: frozenset({_P.PURGE, _P.RETENTION, _P.AUDIT_VERIFY, _P.CIRCULATE}),
}


class ActorKind(enum.StrEnum):
    """What sort of party acts."""

    STAFF = "staff"
    TERMINAL = "terminal"
    ADMIN = "admin"  # the local administrator at the appliance's command line
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The party a service acts for; `branch` is where it stands (for checkouts and returns)."""

    kind: ActorKind
    name: str
    role: Role
    branch: str = "main"

    @property
    def label(self) -> str:
        """How the actor appears in the audit log."""
        return f"{self.kind.value}:{self.name}"

    @property
    def is_person(self) -> bool:
        return self.kind in (ActorKind.STAFF, ActorKind.ADMIN)

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            raise PermissionDenied(permission.value)


def local_admin(branch: str = "main") -> Actor:
    """The actor of commands run at the appliance by whoever holds the key file."""
    return Actor(ActorKind.ADMIN, "local", Role.ADMIN, branch)


def system_actor() -> Actor:
    return Actor(ActorKind.SYSTEM, "reticent", Role.SYSTEM)


def terminal_actor(login: str, branch: str) -> Actor:
    return Actor(ActorKind.TERMINAL, login, Role.TERMINAL, branch)
