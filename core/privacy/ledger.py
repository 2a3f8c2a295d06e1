"""The purge ledger: keyed hashes of purged barcodes, replayed after a restore (PRIV-07)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from core.model import Base, Patron
from core.model.retention import PurgeLedgerEntry
from core.security.keys import PURGE_LEDGER_LABEL, derive_subkey
from core.store.open import instance_secret

LEDGER_TABLE = Base.metadata.tables[PurgeLedgerEntry.__tablename__]


@dataclass(frozen=True)
class LedgerEntry:
    """One purged patron: the keyed hash of the barcode and the day of the purge."""

    digest: str
    purged_on: dt.date


class PurgeLedger:
    """Hashes barcodes with the ledger sub-key; the hashes mean nothing without the store."""

    def __init__(self, subkey: bytes) -> None:
        self._key = subkey

    @classmethod
    def for_engine(cls, engine: Engine) -> PurgeLedger:
        """The ledger of a store; its sub-key derives from the instance secret inside the store,
        so it survives a rekey and matches in every backup of the same instance."""
        return cls(derive_subkey(instance_secret(engine), PURGE_LEDGER_LABEL))

    def digest(self, barcode: str) -> str:
        return hmac.digest(self._key, barcode.encode("utf-8"), hashlib.sha256).hex()

    def record(self, session: Session, barcodes: Iterable[str], day: dt.date) -> int:
        """Add one entry per purged barcode, in the transaction that deletes the patrons."""
        rows = [{"digest": self.digest(b), "purged_on": day} for b in barcodes]
        if rows:
            # A Core insert: one executemany, without the ORM's per-row bookkeeping.
            session.execute(insert(LEDGER_TABLE), rows)
        return len(rows)

    def purged_patron_ids(self, session: Session) -> list[int]:
        """Patrons present in this store whom the ledger says were purged.

        A barcode given out again after the purge belongs to someone new: a patron created after
        the day of the purge is kept.
        """
        latest: dict[str, dt.date] = {}
        for entry in read_entries(session):
            known = latest.get(entry.digest)
            if known is None or entry.purged_on > known:
                latest[entry.digest] = entry.purged_on
        if not latest:
            return []
        found: list[int] = []
        rows = session.execute(
            select(Patron.id, Patron.barcode, Patron.created_on).execution_options(yield_per=10_000)
        )
        for patron_id, barcode, created_on in rows:
            purged_on = latest.get(self.digest(barcode))
            if purged_on is not None and created_on <= purged_on:
                found.append(patron_id)
        return found


def read_entries(session: Session) -> list[LedgerEntry]:
    """Every ledger entry, oldest first."""
    rows = session.execute(
        select(PurgeLedgerEntry.digest, PurgeLedgerEntry.purged_on).order_by(PurgeLedgerEntry.id)
    )
    return [LedgerEntry(digest, day) for digest, day in rows]


def merge_entries(session: Session, entries: Sequence[LedgerEntry]) -> int:
    """Add the entries this store lacks (the union of two ledgers); returns how many were added."""
    present = set(read_entries(session))
    missing = [e for e in dict.fromkeys(entries) if e not in present]
    if missing:
        session.execute(
            insert(LEDGER_TABLE), [{"digest": e.digest, "purged_on": e.purged_on} for e in missing]
        )
    return len(missing)
