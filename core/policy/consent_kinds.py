"""The kinds of consent a patron can give (PRIV-02); absent means no, for every kind."""

from __future__ import annotations

CHECKOUT_HISTORY = "checkout_history"  # keep returned loans as reading history (PRIV-03)
NOTIFICATION_HISTORY = "notification_history"  # keep sent notices (PRIV-10)
HOLD_SHELF_NAME = "hold_shelf_name"  # print the name on hold-shelf slips
DATA_SHARING_PREFIX = "data_sharing:"  # share with the named recipient (PRIV-12)
