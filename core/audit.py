"""Append to and verify the hash-chained audit log (PRIV-15).

Each link is an HMAC-SHA256 under the audit-chain sub-key of the instance secret, so editing a
row and recomputing the plain hashes after it does not yield a chain that verifies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.model import AuditEvent
from core.model.retention import AuditCheckpoint
from core.security.keys import AUDIT_CHAIN_LABEL
from core.store.subkeys import store_subkey

GENESIS_HASH = "0" * 64
CHECKPOINT_ROW = 1  # one checkpoint row, moved forward by each audit retention batch

DetailValue = str | int | bool | None


def chain_key(session: Session) -> bytes:
    """The key of the chain's HMAC links in the store `session` is bound to."""
    return store_subkey(session, AUDIT_CHAIN_LABEL)


def event_hash(
    key: bytes,
    prev_hash: str,
    event_id: int,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str | None,
    detail: str,
) -> str:
    canonical = json.dumps(
        [prev_hash, event_id, at.isoformat(), actor, action, subject, detail],
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return hmac.new(key, canonical.encode("ascii"), hashlib.sha256).hexdigest()


def append_event(
    session: Session,
    *,
    now: dt.datetime,
    actor: str,
    action: str,
    subject: str | None,
    detail: Mapping[str, DetailValue] | None = None,
) -> AuditEvent:
    """Add one event at the end of the chain; call inside a write transaction (it holds the lock).

    `subject` is a keyed pseudonym, never a name or barcode; `detail` must not name an item when a
    subject is given, because that would be reading history by another name (PRIV-03).
    """
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if last is not None:
        prev_id, prev_hash = last[0], last[1]
    else:
        # Retention may have removed every event: the chain continues from the checkpoint.
        checkpoint = latest_checkpoint(session)
        prev_id, prev_hash = checkpoint if checkpoint is not None else (0, GENESIS_HASH)
    text = json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"))
    event = AuditEvent(
        id=prev_id + 1,
        at=now,
        actor=actor,
        action=action,
        subject=subject,
        detail=text,
        prev_hash=prev_hash,
    )
    event.hash = event_hash(
        chain_key(session), prev_hash, event.id, now, actor, action, subject, text
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """The result of verifying the chain: `first_broken` is None when it is intact."""

    events: int
    first_broken: int | None
    reason: str = ""


def verify_events(
    events: Iterable[AuditEvent],
    key: bytes,
    start_hash: str = GENESIS_HASH,
    *,
    first_id: int | None = None,
) -> ChainReport:
    """Recompute every link with `key`; name the first event whose content or link differs.

    `first_id`, when given, is the id the first event must have (the one after a checkpoint).
    """
    expected_prev = start_hash
    expected_id: int | None = first_id
    count = 0
    for event in events:
        count += 1
        if expected_id is not None and event.id != expected_id:
            return ChainReport(count, event.id, f"event {expected_id} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(count, event.id, "link to the previous event does not match")
        recomputed = event_hash(
            key,
            event.prev_hash,
            event.id,
            event.at,
            event.actor,
            event.action,
            event.subject,
            event.detail,
        )
        if not hmac.compare_digest(recomputed, event.hash):
            return ChainReport(count, event.id, "content was changed after it was written")
        expected_prev = event.hash
        expected_id = event.id + 1
    return ChainReport(count, None)


def latest_checkpoint(session: Session) -> tuple[int, str] | None:
    """The id and hash of the last event retention removed, or None if none ever was."""
    row = session.execute(
        select(AuditCheckpoint.last_event_id, AuditCheckpoint.last_hash)
        .order_by(AuditCheckpoint.last_event_id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def verify_chain(session: Session) -> ChainReport:
    """Verify the audit log in id order, streaming it, from the retention checkpoint if any.

    Events older than the audit retention are removed (PRIV-07); the checkpoint keeps the hash of
    the last one removed, so the remaining chain still proves it was not edited (PRIV-15).
    """
    checkpoint = latest_checkpoint(session)
    key = chain_key(session)
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    if checkpoint is None:
        return verify_events(session.scalars(query), key)
    last_id, last_hash = checkpoint
    events = session.scalars(query.where(AuditEvent.id > last_id))
    return verify_events(events, key, last_hash, first_id=last_id + 1)


def remove_events_through(session: Session, last_event_id: int, *, now: dt.datetime) -> int:
    """Delete events up to and including `last_event_id`, moving the checkpoint to it.

    Call inside a write transaction; the deletion and the checkpoint commit together, so the
    chain verifies at every moment. Returns how many events were removed.
    """
    last_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == last_event_id))
    if last_hash is None:
        return 0
    removed = session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.id <= last_event_id)
    )
    session.execute(delete(AuditEvent).where(AuditEvent.id <= last_event_id))
    existing = session.get(AuditCheckpoint, CHECKPOINT_ROW)
    if existing is None:
        session.add(
            AuditCheckpoint(
                id=CHECKPOINT_ROW, last_event_id=last_event_id, last_hash=last_hash, at=now
            )
        )
    else:
        existing.last_event_id = last_event_id
        existing.last_hash = last_hash
        existing.at = now
    session.flush()
    return int(removed or 0)
