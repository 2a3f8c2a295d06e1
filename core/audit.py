"""Append to and verify the hash-chained audit log (PRIV-15)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.model import AuditEvent

GENESIS_HASH = "0" * 64

DetailValue = str | int | bool | None


def _event_hash(
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
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


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
    prev_id, prev_hash = (last[0], last[1]) if last is not None else (0, GENESIS_HASH)
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
    event.hash = _event_hash(prev_hash, event.id, now, actor, action, subject, text)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """The result of verifying the chain: `first_broken` is None when it is intact."""

    events: int
    first_broken: int | None
    reason: str = ""


def verify_events(events: Iterable[AuditEvent], start_hash: str = GENESIS_HASH) -> ChainReport:
    """Recompute every link; name the first event whose content or link does not match."""
    expected_prev = start_hash
    expected_id: int | None = None
    count = 0
    for event in events:
        count += 1
        if expected_id is not None and event.id != expected_id:
            return ChainReport(count, event.id, f"event {expected_id} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(count, event.id, "link to the previous event does not match")
        recomputed = _event_hash(
            event.prev_hash,
            event.id,
            event.at,
            event.actor,
            event.action,
            event.subject,
            event.detail,
        )
        if recomputed != event.hash:
            return ChainReport(count, event.id, "content was changed after it was written")
        expected_prev = event.hash
        expected_id = event.id + 1
    return ChainReport(count, None)


def verify_chain(session: Session) -> ChainReport:
    """Verify the whole audit log in id order, streaming it."""
    events = session.scalars(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    )
    return verify_events(events)
