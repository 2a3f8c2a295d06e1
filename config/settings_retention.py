"""Retention rules per data class (PRIV-07)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetentionSettings:
    """Settings of this section; every field has a default so no file is needed."""
