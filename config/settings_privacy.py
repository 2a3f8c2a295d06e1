"""Policy, canary and self-audit settings (PRIV-01, PRIV-14, PRIV-15)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrivacySettings:
    """Settings of this section; every field has a default so no file is needed."""
