"""The error hierarchy: one base, domain refusals carrying a reason code and never personal data."""

from __future__ import annotations

from core.policy.reasons import REASON_TEXT, Reason


class ReticentError(Exception):
    """Base of every error this project raises on purpose."""


class DomainError(ReticentError):
    """A service refused a request; `reason` drives SIP2 flags and screen messages."""

    def __init__(self, reason: Reason, detail: str | None = None) -> None:
        # The text is the fixed sentence for the reason, never a name, barcode or PIN.
        super().__init__(REASON_TEXT.get(reason, str(reason)) if detail is None else detail)
        self.reason = reason


class NotFound(DomainError):
    """The patron, item, hold or fee asked for does not exist."""


class PermissionDenied(DomainError):
    """The actor's role does not allow this action (PRIV-05)."""

    def __init__(self, action: str) -> None:
        super().__init__(Reason.PERMISSION_DENIED, f"not permitted: {action}")
        self.action = action


class StoreError(ReticentError):
    """The store cannot be opened or used."""


class KeyFileError(StoreError):
    """The key file is missing, malformed or readable by others (PRIV-08)."""


class WrongKeyError(StoreError):
    """The key does not open the database, or the file is not a reticent database."""


class ImportRowError(ReticentError):
    """A row of an import file is invalid; nothing of the file was written."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
