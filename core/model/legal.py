"""Legal requests and their disclosures (PRIV-12, PRIV-13)."""

from __future__ import annotations
