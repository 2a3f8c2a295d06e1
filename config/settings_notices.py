"""Notice delivery and report settings (PRIV-10, PRIV-11)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoticesSettings:
    """Settings of this section; every field has a default so no file is needed."""
