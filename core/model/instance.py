"""The instance row: the secret that keyed pseudonyms and the purge ledger derive from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped

from core.model.base import Base, PiiClass, UTCDateTime, annotated
from core.model.sealed import WrappedSecret

INSTANCE = "while the instance exists"
N = PiiClass.NONE


class Instance(Base):
    """One row. The secret lives inside the encrypted store, so rotating the store key (rekey)
    keeps pseudonyms and purge-ledger entries valid."""

    __tablename__ = "instance"

    id: Mapped[int] = annotated(primary_key=True, pii=N, purpose="identity", retention=INSTANCE)
    secret: Mapped[str] = annotated(WrappedSecret(64), pii=N, purpose="root of the pseudonym and ledger sub-keys", retention=INSTANCE)
    key_id: Mapped[str | None] = annotated(String(16), pii=N, purpose="which store key encrypts this file, so a backup finds its retired key (PRIV-08)", retention=INSTANCE)
    created_at: Mapped[dt.datetime] = annotated(UTCDateTime, pii=N, purpose="instance age", retention=INSTANCE)
