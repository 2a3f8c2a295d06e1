"""The destruction ledger: keyed hashes of rows deleted for privacy, replayed on restore.

A checkin deletes its loan, a withdrawal its consent and what was kept under it, the purge old
notices and history, the hold expiry lapsed holds, a legal-request delete the request. Each
such delete also records HMAC(sub-key, "table:id") here, in the same transaction, so a
restore from an older backup deletes those rows again (PRIV-02, PRIV-07). Ids of these tables
are never reused (core/model/base.py, `never_reused_ids`), so a digest names exactly one row
and, without the store, nothing at all. The same call asks for the write-ahead log to be
emptied once the transaction commits, so the deleted row leaves the WAL too
(core/store/engine.py, `checkpoint_after_commit`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Final

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.model import Base, Consent, Hold, Loan, ReadingHistory
from core.model.legal import LegalRequest
from core.model.notices import SentNotice
from core.model.retention import DestructionLedgerEntry
from core.security.keys import DESTRUCTION_LEDGER_LABEL
from core.store.engine import checkpoint_after_commit
from core.store.subkeys import store_subkey

# The tables whose deleted rows the ledger remembers, in the order a replay removes them: a
# consent before the data kept under it, holds before loans (both free items).
TRACKED: Final[tuple[type[Base], ...]] = (
    Consent,
    ReadingHistory,
    SentNotice,
    Hold,
    Loan,
    LegalRequest,
)
_TRACKED_NAMES: Final = frozenset(str(model.__tablename__) for model in TRACKED)
LEDGER_TABLE = Base.metadata.tables[DestructionLedgerEntry.__tablename__]


class DestructionLedger:
    """Digests of (table, id) under the destruction-ledger sub-key of the instance secret."""

    def __init__(self, subkey: bytes) -> None:
        self._key = subkey

    @classmethod
    def of(cls, session: Session) -> DestructionLedger:
        return cls(store_subkey(session, DESTRUCTION_LEDGER_LABEL))

    def digest(self, table: str, row_id: int) -> str:
        return hmac.digest(self._key, f"{table}:{row_id}".encode(), hashlib.sha256).hex()


def record_destruction(session: Session, model: type[Base], ids: Iterable[int]) -> int:
    """Call in the transaction that deletes these rows for privacy; returns how many it noted.

    The rows stay deleted after any restore, and the WAL is emptied after the commit.
    """
    table = str(model.__tablename__)
    if table not in _TRACKED_NAMES:
        raise ValueError(f"{table} is not a table the destruction ledger covers")
    ledger = DestructionLedger.of(session)
    rows = [{"digest": ledger.digest(table, row_id)} for row_id in ids]
    if rows:
        session.execute(insert(LEDGER_TABLE), rows)
        checkpoint_after_commit(session)
    return len(rows)


def read_digests(session: Session) -> set[str]:
    """Every digest in the ledger."""
    return set(session.scalars(select(DestructionLedgerEntry.digest)))


def merge_digests(session: Session, digests: Iterable[str]) -> int:
    """Add the digests this store lacks (after a restore: the live store's); how many were."""
    missing = set(digests) - read_digests(session)
    if missing:
        session.execute(insert(LEDGER_TABLE), [{"digest": d} for d in sorted(missing)])
    return len(missing)
