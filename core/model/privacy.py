"""Policy versions, consent history and staff training acknowledgements (PRIV-01, PRIV-02, PRIV-15)."""

from __future__ import annotations
