"""Applied SIP2 transactions, remembered for a short window so that a retry changes nothing.

A kiosk that timed out reconnects and resends; the terminal's own transaction date (the 18
characters of 11, 09, 29, 15 and 37) with the terminal, the request, the patron and the item
identify a transaction that was already applied (docs/sip2.md). The first answer is kept for
``REPLAY_WINDOW`` in the same transaction as the change it reports, so it survives reconnects,
99s and a restart, and a retry within the window gets it back and changes nothing.

PRIV-03: the row holds an HMAC of those identifiers (``REPLAY_LABEL`` sub-key of the instance
secret) and the answer without its patron id, item id and title; rows older than the window
are deleted whenever a new one is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

from sqlalchemy import delete, select

from core.model import Sip2Replay
from core.store.subkeys import store_subkey
from core.store.uow import UnitOfWork

REPLAY_WINDOW: Final = dt.timedelta(minutes=10)
REPLAY_LABEL: Final = b"reticent sip2 replay v1"


def replay_key(uow: UnitOfWork, parts: Sequence[str]) -> str:
    """The keyed hash of what identifies one transaction (never the values themselves)."""
    key = store_subkey(uow.session, REPLAY_LABEL)
    return hmac.new(key, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()


def find_replay(uow: UnitOfWork, now: dt.datetime, key: str) -> str | None:
    """The answer kept for ``key`` within the window, or None."""
    return uow.session.scalar(
        select(Sip2Replay.answer)
        .where(Sip2Replay.key == key, Sip2Replay.created_at > now - REPLAY_WINDOW)
        .order_by(Sip2Replay.id.desc())
        .limit(1)
    )


def remember_replay(uow: UnitOfWork, now: dt.datetime, key: str, answer: str) -> None:
    """Keep ``answer`` for ``key``; forget every transaction older than the window."""
    uow.session.execute(delete(Sip2Replay).where(Sip2Replay.created_at <= now - REPLAY_WINDOW))
    uow.session.add(Sip2Replay(key=key, answer=answer, created_at=now))
    uow.session.flush()
