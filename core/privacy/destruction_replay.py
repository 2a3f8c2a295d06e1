"""After a restore: delete again every row the live store had deleted for privacy (PRIV-07)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.audit import append_event
from core.model import Base, Consent, Hold, Item, ItemStatus, Loan
from core.model.privacy import ConsentEvent
from core.privacy.consents import COLLECTED_UNDER
from core.privacy.destruction import TRACKED, DestructionLedger, read_digests
from core.security.keys import Pseudonymizer

RESTORE_CHANNEL = "restore"  # consent history: a withdrawal re-applied by a restore
ID_CHUNK = 10_000  # SQLite allows 32766 bound parameters per statement


def _matching(
    session: Session, ledger: DestructionLedger, digests: set[str], model: type[Base]
) -> list[int]:
    table = str(model.__tablename__)
    ids = session.scalars(select(model.__table__.c.id).execution_options(yield_per=10_000))
    return [row_id for row_id in ids if ledger.digest(table, row_id) in digests]


def _withdraw_again(
    session: Session, ids: Sequence[int], now: dt.datetime, actor: str, pseudonyms: Pseudonymizer
) -> dict[str, int]:
    """A withdrawn consent back from a backup: withdrawn again, with what it covered (PRIV-02).

    Returns the rows of covered data deleted with them, per table.
    """
    covered: dict[str, int] = {}
    for consent in session.scalars(select(Consent).where(Consent.id.in_(ids))).all():
        deleted = 0
        collected = COLLECTED_UNDER.get(consent.kind)
        if collected is not None:
            patron_column = collected.__table__.c.patron_id
            deleted = len(
                session.scalars(
                    select(collected.__table__.c.id).where(patron_column == consent.patron_id)
                ).all()
            )
            session.execute(delete(collected).where(patron_column == consent.patron_id))
            name = str(collected.__tablename__)
            covered[name] = covered.get(name, 0) + deleted
        session.add(
            ConsentEvent(
                patron_id=consent.patron_id,
                kind=consent.kind,
                granted=False,
                policy_version=None,
                at=now,
                channel=RESTORE_CHANNEL,
                actor=actor,
            )
        )
        append_event(
            session,
            now=now,
            actor=actor,
            action="consent.withdraw",
            subject=pseudonyms.patron(consent.patron_id),
            detail={"kind": consent.kind, "channel": RESTORE_CHANNEL, "deleted": deleted},
        )
        session.delete(consent)
    session.flush()
    return covered


def _release_items(session: Session, item_ids: Sequence[int | None]) -> None:
    chosen = [item_id for item_id in item_ids if item_id is not None]
    if chosen:
        session.execute(
            update(Item).where(Item.id.in_(chosen)).values(status=ItemStatus.AVAILABLE.value),
            execution_options={"synchronize_session": False},
        )


def _remove(
    session: Session,
    model: type[Base],
    ids: Sequence[int],
    now: dt.datetime,
    actor: str,
    pseudonyms: Pseudonymizer,
) -> dict[str, int]:
    """Delete one chunk of rows of `model`; returns other rows deleted with them, per table."""
    if model is Consent:
        return _withdraw_again(session, ids, now, actor, pseudonyms)
    if model is Loan:
        _release_items(session, session.scalars(select(Loan.item_id).where(Loan.id.in_(ids))).all())
    elif model is Hold:
        trapped = select(Hold.trapped_item_id).where(Hold.id.in_(ids))
        _release_items(session, session.scalars(trapped).all())
    session.execute(
        delete(model).where(model.__table__.c.id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
    return {}


def replay_destruction(
    session: Session, now: dt.datetime, actor: str, pseudonyms: Pseudonymizer
) -> dict[str, int]:
    """Delete the rows the ledger names (rows per table); run in one write transaction.

    A consent is withdrawn again (its data deleted, the withdrawal in the consent history and
    the audit log); a loan or a trapped hold frees its item; the rest are simply deleted.
    """
    digests = read_digests(session)
    counts: dict[str, int] = {}
    if not digests:
        return counts
    ledger = DestructionLedger.of(session)
    for model in TRACKED:
        ids = _matching(session, ledger, digests, model)
        name = str(model.__tablename__)
        if ids:
            counts[name] = counts.get(name, 0) + len(ids)
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            for other, n in _remove(session, model, chunk, now, actor, pseudonyms).items():
                if n:
                    counts[other] = counts.get(other, 0) + n
    session.expire_all()
    return counts
