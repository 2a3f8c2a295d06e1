"""Anonymous reports with small-cell suppression, and audited staff reports (PRIV-05, PRIV-11)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select

from core.audit import append_event
from core.errors import PermissionDenied, ReticentError
from core.model import CirculationCount, Fee, Hold, Item, Loan, Patron, Record
from core.privacy.training import require_training
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

DEFAULT_K = 5  # PRIV-11: counts under k are shown as "<k"
CIRCULATION_EVENTS = ("checkout", "checkin", "renew")


@dataclass(frozen=True)
class Report:
    """A finished report: column names and rows of display text."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    personal: bool = False  # True for staff reports that name patrons (PRIV-05)


def suppress(count: int, k: int) -> str:
    """A count as shown in an anonymous report: 1 to k-1 become "<k" (PRIV-11).

    Zero is shown: an empty cell is already public from the absence of a row.
    """
    if 0 < count < k:
        return f"<{k}"
    return str(count)


def suppress_sum(total: int, count: int, k: int) -> str:
    """A money sum (minor units) over `count` records, hidden when the count itself is."""
    if 0 < count < k:
        return "-"
    return f"{total / 100:.2f}"


def _require_reader(actor: Actor) -> None:
    # Anonymous reports are for people; terminals and the system job never ask for them.
    if not actor.is_person:
        raise PermissionDenied("reports")


def circulation_report(uow: UnitOfWork, actor: Actor, now: dt.datetime, *, k: int) -> Report:
    """Checkouts, checkins and renewals per month x branch x media type x patron category."""
    _require_reader(actor)
    # Months are formed here rather than in SQL so the query is the same on SQLite and PostgreSQL.
    rows = uow.session.execute(
        select(
            CirculationCount.day,
            CirculationCount.branch,
            CirculationCount.media_type,
            CirculationCount.patron_category,
            CirculationCount.event,
            CirculationCount.count,
        )
    ).all()
    cells: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(dict)
    for day, branch, media_type, category, event, count in rows:
        events = cells[(f"{day:%Y-%m}", branch, media_type, category)]
        events[event] = events.get(event, 0) + int(count)
    table = tuple(
        (*key, *(suppress(events.get(event, 0), k) for event in CIRCULATION_EVENTS))
        for key, events in sorted(cells.items())
    )
    return _finish(
        uow,
        actor,
        now,
        Report(
            name="circulation",
            columns=(
                "month",
                "branch",
                "media type",
                "category",
                "checkouts",
                "checkins",
                "renewals",
            ),
            rows=table,
        ),
    )


def holds_report(uow: UnitOfWork, actor: Actor, now: dt.datetime, *, k: int) -> Report:
    """How many holds are at each stage per pickup branch; no patron, no title."""
    _require_reader(actor)
    rows = uow.session.execute(
        select(Hold.pickup_branch, Hold.status, func.count(Hold.id))
        .group_by(Hold.pickup_branch, Hold.status)
        .order_by(Hold.pickup_branch, Hold.status)
    ).all()
    table = tuple((branch, status, suppress(int(n), k)) for branch, status, n in rows)
    return _finish(
        uow, actor, now, Report(name="holds", columns=("branch", "status", "holds"), rows=table)
    )


def fees_report(uow: UnitOfWork, actor: Actor, now: dt.datetime, *, k: int) -> Report:
    """Count and sums of fees per kind and status; sums over fewer than k fees are hidden."""
    _require_reader(actor)
    rows = uow.session.execute(
        select(
            Fee.kind, Fee.status, func.count(Fee.id), func.sum(Fee.amount), func.sum(Fee.balance)
        )
        .group_by(Fee.kind, Fee.status)
        .order_by(Fee.kind, Fee.status)
    ).all()
    table = tuple(
        (
            kind,
            status,
            suppress(int(n), k),
            suppress_sum(int(amount or 0), int(n), k),
            suppress_sum(int(balance or 0), int(n), k),
        )
        for kind, status, n, amount, balance in rows
    )
    return _finish(
        uow,
        actor,
        now,
        Report(name="fees", columns=("kind", "status", "fees", "charged", "owed"), rows=table),
    )


def overdue_report(uow: UnitOfWork, actor: Actor, now: dt.datetime, *, k: int) -> Report:
    """Overdue loans with patron and item: a staff report for the privacy officer (PRIV-05)."""
    actor.require(Permission.PII_REPORTS)
    require_training(uow, actor, now)  # PRIV-15: no patron data before the training is done
    rows = uow.session.execute(
        select(
            Patron.barcode,
            Patron.given_name,
            Patron.family_name,
            Item.barcode,
            Record.title,
            Loan.due_at,
        )
        .join(Patron, Patron.id == Loan.patron_id)
        .join(Item, Item.id == Loan.item_id)
        .join(Record, Record.id == Item.record_id)
        .where(Loan.due_at < now)
        .order_by(Loan.due_at, Patron.barcode, Item.barcode)
    ).all()
    table = tuple(
        (patron, f"{given} {family}", item, title, due.strftime("%Y-%m-%d"))
        for patron, given, family, item, title, due in rows
    )
    return _finish(
        uow,
        actor,
        now,
        Report(
            name="overdue",
            columns=("patron", "name", "item", "title", "due"),
            rows=table,
            personal=True,
        ),
    )


def _finish(uow: UnitOfWork, actor: Actor, now: dt.datetime, report: Report) -> Report:
    # PRIV-05: every report is audited; the detail holds the report name and a count only.
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="report.personal" if report.personal else "report.anonymous",
        subject=None,
        detail={"report": report.name, "rows": len(report.rows)},
    )
    return report


class ReportFunction(Protocol):
    """The shape of every report function."""

    def __call__(self, uow: UnitOfWork, actor: Actor, now: dt.datetime, *, k: int) -> Report: ...


REPORTS: Mapping[str, ReportFunction] = {
    "circulation": circulation_report,
    "holds": holds_report,
    "fees": fees_report,
    "overdue": overdue_report,
}
REPORT_NAMES: Sequence[str] = tuple(REPORTS)


def run_report(
    uow: UnitOfWork, actor: Actor, now: dt.datetime, name: str, *, k: int = DEFAULT_K
) -> Report:
    """Run the report called `name` inside a write unit of work (the audit event is written)."""
    if k < 2:
        raise ValueError("k must be at least 2 for small-cell suppression to mean anything")
    report = REPORTS.get(name)
    if report is None:
        raise ReticentError(f"no report named {name!r} (known: {', '.join(REPORT_NAMES)})")
    return report(uow, actor, now, k=k)
