"""A staff session's policy acknowledgement, asked before any patron data (PRIV-15)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.errors import DomainError
from core.privacy.policy import current_policy
from core.privacy.training import require_training
from core.services.actors import Actor
from core.store.uow import UnitOfWork


@dataclass(frozen=True)
class PolicyGate:
    """The policy in force and whether this member of staff has acknowledged it."""

    version: str | None
    text: str | None
    acknowledged: bool


def policy_gate(uow: UnitOfWork, actor: Actor, now: dt.datetime) -> PolicyGate:
    """What the UI shows before the desk: the text to acknowledge, or that nothing is owed."""
    policy = current_policy(uow.session, now)
    try:
        require_training(uow, actor, now)  # the one owner of the rule
    except DomainError:
        acknowledged = False
    else:
        acknowledged = True
    if policy is None:
        return PolicyGate(None, None, acknowledged)
    return PolicyGate(policy.version, policy.text, acknowledged)
