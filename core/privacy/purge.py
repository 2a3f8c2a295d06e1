"""Apply the retention rules: batched, secure deletion, ledger, run record and audit (PRIV-07)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import Executable

from core.audit import (
    append_event,
    chain_key,
    latest_checkpoint,
    remove_events_through,
    verify_events,
)
from core.model import (
    AuditEvent,
    Consent,
    Fee,
    FeeStatus,
    Hold,
    Item,
    ItemStatus,
    Loan,
    Patron,
    ReadingHistory,
)
from core.model.legal import LegalRequest, LegalRequestPatron
from core.model.notices import SentNotice
from core.model.retention import PurgeRun
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.policy.retention import LEGAL_HOLD_STATUSES, Cutoffs, RetentionRules, backup_expires
from core.privacy.destruction import record_destruction
from core.privacy.ledger import PurgeLedger
from core.services.actors import Actor, Permission, system_actor
from core.store.portable import IdSet
from core.store.uow import Store

DEFAULT_BATCH_SIZE = 5000
# SQLite allows 32766 bound parameters; batches of ids stay well below it.
MAX_BATCH_SIZE = 30_000
SETTLED = (FeeStatus.PAID.value, FeeStatus.WAIVED.value)
# Bulk statements: nothing they touch is loaded in the session, so skip its bookkeeping.
BULK: Mapping[str, object] = {"synchronize_session": False}
BACKUP_DIR_NAME = "backups"


@dataclass(frozen=True)
class PurgeReport:
    """What a purge run removed (or, in a dry run, would remove): counts only, never who."""

    at: dt.datetime
    dry_run: bool
    reading_history: int = 0
    settled_fees: int = 0
    sent_notices: int = 0
    staff_notes: int = 0
    patrons: int = 0
    audit_events: int = 0
    audit_chain_intact: bool = True  # False: old events were kept because the chain is broken
    wal_truncated: bool = True  # False: a reader kept the WAL from being emptied
    backups_deleted: int | None = None  # None: the backup folder was not part of this run

    def counts(self) -> Mapping[str, int]:
        """Removed (or removable) rows per data class, plus old backups when they were checked."""
        counts = {
            "reading_history": self.reading_history,
            "settled_fees": self.settled_fees,
            "sent_notices": self.sent_notices,
            "staff_notes": self.staff_notes,
            "patrons": self.patrons,
            "audit_events": self.audit_events,
        }
        if self.backups_deleted is not None:
            counts["backups"] = self.backups_deleted
        return counts

    def text(self) -> str:
        """A short report for the command line and the log: counts only (PRIV-07)."""
        verb = "would remove" if self.dry_run else "removed"
        lines = [f"purge {'(dry run) ' if self.dry_run else ''}at {self.at.isoformat()}: {verb}"]
        labels = {
            "reading_history": "reading history entries",
            "settled_fees": "paid or waived fees",
            "sent_notices": "sent notices",
            "staff_notes": "expired staff notes (cleared)",
            "patrons": "expired or inactive patrons",
            "audit_events": "audit events (behind a checkpoint)",
            "backups": "old backups",
        }
        for key, count in self.counts().items():
            lines.append(f"  {labels[key]}: {count}")
        if not self.audit_chain_intact:
            lines.append("  audit chain is broken: old audit events were kept (run audit verify)")
        if not self.wal_truncated:
            lines.append("  the write-ahead log could not be emptied: another reader was active")
        return "\n".join(lines)


# A purge is a sequence of steps, each one write transaction: it yields after each, so whoever
# drives it decides what runs in between (in `serve`, SIP2 requests on the database lane).
Steps = Generator[None, None, int]


def _batched(
    store: Store,
    select_batch: Callable[[Session, int], Sequence[int]],
    remove: Callable[[Session, Sequence[int]], object],
    batch_size: int,
) -> Steps:
    """Run `remove` on successive batches of ids, each in its own write transaction (a step);
    the total removed is the generator's return value."""
    total, last_id = 0, 0
    while True:
        with store.write() as uow:
            # PRIV-07: overwrite deleted content; the engine sets it too, this makes it certain.
            secure_delete(uow.session)
            ids = select_batch(uow.session, last_id)
            if ids:
                remove(uow.session, ids)
        yield
        if not ids:
            return total
        total += len(ids)
        last_id = ids[-1]
        if len(ids) < batch_size:
            return total


def _bulk(session: Session, statement: Executable) -> None:
    session.execute(statement, execution_options=BULK)


def _destroy(
    session: Session, model: type[ReadingHistory | SentNotice], ids: Sequence[int]
) -> None:
    """Delete rows and note them in the destruction ledger, so no restore brings them back
    even if the retention rules are lengthened later (PRIV-07)."""
    record_destruction(session, model, ids)
    _bulk(session, delete(model).where(model.id.in_(id_set(ids))))


def id_set(ids: Sequence[int]) -> IdSet:
    """A set of ids as one bound JSON array: thousands of bound parameters would cost more to
    build than the deletion itself."""
    return IdSet(ids)


def _keyset(
    session: Session,
    id_column: InstrumentedAttribute[int],
    where: ColumnElement[bool],
    after: int,
    n: int,
) -> list[int]:
    query = select(id_column).where(where, id_column > after).order_by(id_column).limit(n)
    return list(session.scalars(query))


def _count(
    session: Session, id_column: InstrumentedAttribute[int], where: ColumnElement[bool]
) -> int:
    return int(session.scalar(select(func.count(id_column)).where(where)) or 0)


def _reading_history_expired(cut: Cutoffs) -> ColumnElement[bool]:
    # PRIV-02/03: history exists only under consent; and not for patrons inactive too long.
    consented = exists().where(
        Consent.patron_id == ReadingHistory.patron_id, Consent.kind == CHECKOUT_HISTORY
    )
    inactive = exists().where(
        Patron.id == ReadingHistory.patron_id,
        Patron.last_activity_on < cut.reading_history_inactive_before,
    )
    return or_(~consented, inactive)


def _settled_fee_expired(cut: Cutoffs) -> ColumnElement[bool]:
    return Fee.status.in_(SETTLED) & (Fee.settled_at < cut.settled_fees_before)


def _notice_expired(cut: Cutoffs) -> ColumnElement[bool]:
    return SentNotice.sent_at < cut.sent_notices_before


def _note_expired(cut: Cutoffs) -> ColumnElement[bool]:
    return Patron.note_expires_on < cut.notes_expired_before


def _patron_expired(cut: Cutoffs) -> ColumnElement[bool]:
    stale = or_(
        Patron.expires_on < cut.expired_patrons_before,
        Patron.last_activity_on < cut.inactive_patrons_before,
    )
    open_business = or_(
        exists().where(Loan.patron_id == Patron.id),
        exists().where(Hold.patron_id == Patron.id),
        exists().where(Fee.patron_id == Patron.id, Fee.status == FeeStatus.OPEN.value),
    )
    # Legal hold: the states are those of `under_legal_hold` (core/policy/retention.py).
    held = exists().where(
        LegalRequestPatron.barcode == Patron.barcode,
        LegalRequestPatron.request_id == LegalRequest.id,
        LegalRequest.status.in_(LEGAL_HOLD_STATUSES),
    )
    return stale & ~open_business & ~held


def delete_patrons(
    session: Session, patron_ids: Sequence[int], ledger: PurgeLedger | None, day: dt.date
) -> None:
    """Remove patrons and everything about them, recording each in the purge ledger.

    Consents, reading history and notices go by cascade. Loans, holds and fees are removed
    first: the purge rule only selects patrons with none open, but a ledger replay after a
    restore removes patrons whatever an old backup says they had (PRIV-07).
    """
    chosen = id_set(patron_ids)
    if ledger is not None:  # None: a ledger replay, whose patrons are in the ledger already
        ledger.record(
            session, session.scalars(select(Patron.barcode).where(Patron.id.in_(chosen))), day
        )
    released = (
        select(Loan.item_id)
        .where(Loan.patron_id.in_(chosen))
        .union(
            select(Hold.trapped_item_id).where(
                Hold.patron_id.in_(chosen), Hold.trapped_item_id.is_not(None)
            )
        )
    )
    _bulk(
        session,
        update(Item)
        .where(Item.id.in_(released.scalar_subquery()))
        .values(status=ItemStatus.AVAILABLE.value),
    )
    _bulk(session, delete(Loan).where(Loan.patron_id.in_(chosen)))
    _bulk(session, delete(Hold).where(Hold.patron_id.in_(chosen)))
    _bulk(session, delete(Fee).where(Fee.patron_id.in_(chosen)))  # payments cascade
    _bulk(session, delete(Patron).where(Patron.id.in_(chosen)))


def _audit_boundary(session: Session, cut: Cutoffs) -> int | None:
    """The id of the newest event that can go: a prefix of the chain, all older than the cut."""
    first_kept = session.scalar(
        select(func.min(AuditEvent.id)).where(AuditEvent.at >= cut.audit_events_before)
    )
    if first_kept is not None:
        return int(first_kept) - 1 if first_kept > 1 else None
    newest = session.scalar(select(func.max(AuditEvent.id)))
    return int(newest) if newest is not None else None


def _old_chain_intact(session: Session, boundary: int) -> bool:
    """Verify the events about to go, so removing them never hides an edit (PRIV-15)."""
    checkpoint = latest_checkpoint(session)
    start_id, start_hash = checkpoint if checkpoint is not None else (0, None)
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.id > start_id, AuditEvent.id <= boundary)
        .order_by(AuditEvent.id)
        .execution_options(yield_per=1000)
    )
    key = chain_key(session)
    if start_hash is None:
        return verify_events(events, key).first_broken is None
    return verify_events(events, key, start_hash, first_id=start_id + 1).first_broken is None


def _purge_audit(
    store: Store, cut: Cutoffs, now: dt.datetime, batch_size: int
) -> Generator[None, None, tuple[int, bool]]:
    with store.read() as uow:
        boundary = _audit_boundary(uow.session, cut)
        intact = boundary is None or _old_chain_intact(uow.session, boundary)
    yield
    if boundary is None or not intact:
        return 0, intact
    total = 0
    while True:
        with store.write() as uow:
            secure_delete(uow.session)
            ids = uow.session.scalars(
                select(AuditEvent.id)
                .where(AuditEvent.id <= boundary)
                .order_by(AuditEvent.id)
                .limit(batch_size)
            ).all()
            if ids:
                total += remove_events_through(uow.session, ids[-1], now=now)
        yield
        if not ids:
            return total, True


def _dry_counts(store: Store, cut: Cutoffs) -> dict[str, int]:
    with store.read() as uow:
        s = uow.session
        boundary = _audit_boundary(s, cut)
        checkpoint = latest_checkpoint(s)
        after = checkpoint[0] if checkpoint is not None else 0
        audit = 0
        if boundary is not None:
            audit = _count(s, AuditEvent.id, (AuditEvent.id > after) & (AuditEvent.id <= boundary))
        return {
            "reading_history": _count(s, ReadingHistory.id, _reading_history_expired(cut)),
            "settled_fees": _count(s, Fee.id, _settled_fee_expired(cut)),
            "sent_notices": _count(s, SentNotice.id, _notice_expired(cut)),
            "staff_notes": _count(s, Patron.id, _note_expired(cut)),
            "patrons": _count(s, Patron.id, _patron_expired(cut)),
            "audit_events": audit,
        }


def secure_delete(session: Session) -> None:
    """SQLite overwrites what it deletes (PRIV-07); PostgreSQL has no such setting."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))


def truncate_wal(store: Store) -> bool:
    """Copy the WAL into the database and empty it, so removed rows survive in neither (PRIV-07).

    Returns False when another connection's read kept the log from being emptied.
    """
    if store.engine.dialect.name != "sqlite":
        # A shared PostgreSQL store has no WAL file of ours; what its dead rows keep of a
        # patron's name or contact is sealed (core/model/sealed.py), and autovacuum reclaims it.
        return True
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()
    return row is not None and int(row[0]) == 0


def _check_batch_size(batch_size: int) -> None:
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}")


class PurgeSteps:
    """A purge run as short write transactions: each `step()` runs the next one (PRIV-07).

    `purge` runs them back to back; `reticent serve` runs each as its own call on the database
    lane, so SIP2 requests are answered between any two of them (config/daily.py). Each rule
    deletes in batches of `batch_size` with `secure_delete` on; the run is recorded and audited
    with counts only, then the WAL is emptied.
    """

    def __init__(
        self,
        store: Store,
        now: dt.datetime,
        rules: RetentionRules,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        actor: Actor | None = None,
    ) -> None:
        who = actor if actor is not None else system_actor()
        who.require(Permission.RETENTION)
        _check_batch_size(batch_size)
        self._steps = _purge_steps(store, now, rules, batch_size, who)
        self.report: PurgeReport | None = None  # set once the last step has run

    def step(self) -> bool:
        """Run the next transaction; False once the purge is complete (`report` is then set)."""
        if self.report is not None:
            return False
        try:
            next(self._steps)
        except StopIteration as done:
            self.report = done.value
            return False
        return True


def _purge_steps(
    store: Store, now: dt.datetime, rules: RetentionRules, batch_size: int, who: Actor
) -> Generator[None, None, PurgeReport]:
    cut = rules.cutoffs(now)

    def removing(
        id_column: InstrumentedAttribute[int], where: ColumnElement[bool]
    ) -> Callable[[Session, int], Sequence[int]]:
        return lambda session, after: _keyset(session, id_column, where, after, batch_size)

    history = yield from _batched(
        store,
        removing(ReadingHistory.id, _reading_history_expired(cut)),
        lambda s, ids: _destroy(s, ReadingHistory, ids),
        batch_size,
    )
    fees = yield from _batched(
        store,
        removing(Fee.id, _settled_fee_expired(cut)),
        lambda s, ids: _bulk(s, delete(Fee).where(Fee.id.in_(id_set(ids)))),  # payments cascade
        batch_size,
    )
    notices = yield from _batched(
        store,
        removing(SentNotice.id, _notice_expired(cut)),
        lambda s, ids: _destroy(s, SentNotice, ids),
        batch_size,
    )
    notes = yield from _batched(  # PRIV-06: a staff note does not outlive its expiry day
        store,
        removing(Patron.id, _note_expired(cut)),
        lambda s, ids: _bulk(
            s,
            update(Patron)
            .where(Patron.id.in_(id_set(ids)))
            .values(note=None, note_expires_on=None),
        ),
        batch_size,
    )
    ledger = PurgeLedger.for_engine(store.engine)
    today = now.astimezone(dt.UTC).date()
    patrons = yield from _batched(
        store,
        removing(Patron.id, _patron_expired(cut)),
        lambda s, ids: delete_patrons(s, ids, ledger, today),
        batch_size,
    )
    audit, intact = yield from _purge_audit(store, cut, now, batch_size)
    report = PurgeReport(
        at=now,
        dry_run=False,
        reading_history=history,
        settled_fees=fees,
        sent_notices=notices,
        staff_notes=notes,
        patrons=patrons,
        audit_events=audit,
        audit_chain_intact=intact,
    )
    _record_run(store, report, who)
    yield
    return dataclasses.replace(report, wal_truncated=truncate_wal(store))


def purge(
    store: Store,
    now: dt.datetime,
    rules: RetentionRules,
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: Actor | None = None,
) -> PurgeReport:
    """Remove what the retention rules say has expired; a dry run only counts (PRIV-07).

    The steps of `PurgeSteps`, one after the other.
    """
    if dry_run:
        who = actor if actor is not None else system_actor()
        who.require(Permission.RETENTION)
        _check_batch_size(batch_size)
        counts = _dry_counts(store, rules.cutoffs(now))
        return PurgeReport(
            at=now,
            dry_run=True,
            reading_history=counts["reading_history"],
            settled_fees=counts["settled_fees"],
            sent_notices=counts["sent_notices"],
            staff_notes=counts["staff_notes"],
            patrons=counts["patrons"],
            audit_events=counts["audit_events"],
        )
    steps = PurgeSteps(store, now, rules, batch_size=batch_size, actor=actor)
    while steps.step():
        pass
    assert steps.report is not None
    return steps.report


def _record_run(store: Store, report: PurgeReport, actor: Actor) -> None:
    counts = dict(report.counts())
    with store.write() as uow:
        uow.session.add(PurgeRun(at=report.at, **counts))
        detail: dict[str, int | bool] = dict(counts)
        detail["audit_chain_intact"] = report.audit_chain_intact
        append_event(
            uow.session,
            now=report.at,
            actor=actor.label,
            action="retention.purge",
            subject=None,
            detail=detail,
        )


def last_purge_at(session: Session) -> dt.datetime | None:
    """When the last (non-dry) purge ran, or None if it never has (used by the self-audit)."""
    return session.scalar(select(func.max(PurgeRun.at)))


def default_backup_dir(store: Store) -> Path:
    """`backups` beside the database file (the default `retention.backup_dir`)."""
    database = store.engine.url.database
    if not database:
        raise ValueError("the store has no database file")
    return Path(database).parent / BACKUP_DIR_NAME


def delete_expired_backups(backup_dir: Path, now: dt.datetime, rules: RetentionRules) -> int:
    """Delete files in the backup folder older than the shortest retention period (PRIV-07).

    A backup kept longer would hold data the purge already removed from the live store.
    """
    if not backup_dir.is_dir():
        return 0
    removed = 0
    for entry in os.scandir(backup_dir):
        if not entry.is_file(follow_symlinks=False):
            continue
        modified = dt.datetime.fromtimestamp(entry.stat().st_mtime, dt.UTC)
        if backup_expires(modified, now, rules):
            os.unlink(entry.path)
            removed += 1
    return removed


def run_retention(
    store: Store,
    now: dt.datetime,
    rules: RetentionRules,
    *,
    backup_dir: Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: Actor | None = None,
) -> PurgeReport:
    """The daily job: purge, then delete backups older than the shortest retention period.

    `backup_dir` None means `backups` beside the database file; `actor` None is the system.
    """
    report = purge(store, now, rules, batch_size=batch_size, actor=actor)
    folder = backup_dir if backup_dir is not None else default_backup_dir(store)
    return dataclasses.replace(report, backups_deleted=delete_expired_backups(folder, now, rules))
