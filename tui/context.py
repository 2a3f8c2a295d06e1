"""What the staff app is given by whoever starts it: the store, the clock, the facilities."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.policy.retention import RetentionRules
from core.policy.secret_rules import PinRule
from core.privacy.backup import BackupReport
from core.privacy.canary import CanaryStatus
from core.privacy.selfaudit import AuditItem
from core.services.actors import Actor
from core.services.work import Store


def _no_sessions() -> Mapping[str, int]:
    return {}


@dataclass(frozen=True)
class Facilities:
    """The appliance's configured parts that screens use; built by the command line (config)."""

    library_name: str = "Library"
    branch: str = "main"
    currency: str = "USD"
    report_k: int = 5
    pin_rule: PinRule = field(default_factory=PinRule)
    retention_rules: RetentionRules = field(default_factory=RetentionRules)
    retention_batch: int = 500
    backup_dir: Path | None = None
    # Writes an encrypted backup now (the store key stays with the command line that built it).
    make_backup: Callable[[Actor, dt.datetime], BackupReport] | None = None
    canary: Callable[[dt.datetime], CanaryStatus] | None = None
    self_audit: Callable[[dt.datetime], list[AuditItem]] | None = None
    # Open SIP2 sessions per terminal login, as the SIP2 server publishes them (no patron data).
    sip2_sessions: Callable[[], Mapping[str, int]] = _no_sessions


@dataclass(frozen=True)
class StaffSession:
    """Who is signed in, and the session id the audit log names with each patron view (PRIV-05)."""

    actor: Actor
    session_id: str


@dataclass(frozen=True)
class Desk:
    """Everything the screens share; handed down from the app as an attribute."""

    store: Store
    clock: Callable[[], dt.datetime]
    facilities: Facilities
    session: StaffSession
