"""The purge ledger and purge runs (PRIV-07)."""

from __future__ import annotations
