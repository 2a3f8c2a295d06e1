"""Policy, canary and self-audit settings (PRIV-01, PRIV-14, PRIV-15)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar


@dataclass(frozen=True)
class PrivacySettings:
    """Privacy engine: warrant canary and legal request review."""

    canary_file: Path | None = None  # None: data_dir/canary.json
    canary_public_key: Path | None = None
    canary_warn_days: int = 14
    two_person_review: bool = False

    EXAMPLES: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"canary_file": "canary.json", "canary_public_key": "canary.pub"}
    )
    COMMENTS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "canary_file": (
                "Where `reticent canary sign` writes the signed warrant canary and where its\n"
                "status is read (default: canary.json in data_dir)."
            ),
            "canary_public_key": (
                "The privacy officer's canary public key (the KEYFILE.pub that `reticent canary\n"
                "keygen` wrote). When set, only canaries signed by that key count as valid."
            ),
            "canary_warn_days": "Days before the canary expires that reminders start (PRIV-14).",
            "two_person_review": (
                "Legal requests need two different reviewers to be approved (PRIV-13)."
            ),
        }
    )
