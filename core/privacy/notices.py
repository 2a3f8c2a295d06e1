"""Hold-ready, overdue and fee notices with minimal content, and their delivery (PRIV-10)."""

from __future__ import annotations

import datetime as dt
import enum
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.audit import append_event
from core.errors import ReticentError
from core.model import AuditEvent, Fee, FeeStatus, Hold, HoldStatus, Item, Loan, Patron
from core.model.notices import SentNotice
from core.policy.calendar import start_of_day
from core.policy.consent_kinds import NOTIFICATION_HISTORY
from core.policy.rules import Calendar
from core.privacy.delivery import (
    NoticeRefused,
    NoticeTransport,
    RenderedNotice,
)
from core.services._queries import has_consent
from core.services.actors import system_actor
from core.store.uow import Store

RUN_ACTION = "notices.send"  # audit action of a run; its time opens the next run's window
# PRIV-10: a notice may say no more than this; titles, barcodes and family names never appear.
PLACEHOLDERS = frozenset({"first_name", "count", "library", "contact"})
# Without an earlier run, notices cover what happened in the last day (a daily job's window).
FIRST_RUN_LOOKBACK = dt.timedelta(days=1)
ID_BATCH = 10_000  # SQLite allows 32766 bound parameters per statement


class NoticeKind(enum.StrEnum):
    """What a notice is about."""

    HOLD_READY = "hold_ready"
    OVERDUE = "overdue"
    FEE = "fee"


class TemplateError(ReticentError):
    """A notice template uses a placeholder other than the allowed ones, or has no subject."""


def check_template(text: str) -> None:
    """Raise TemplateError unless `text` has a subject line and uses only the allowed placeholders.

    The first line of a template is the e-mail subject, the rest is the body.
    """
    template = string.Template(text)
    if not template.is_valid():
        raise TemplateError("a '$' not followed by a placeholder name (write $$ for a dollar sign)")
    unknown = sorted(set(template.get_identifiers()) - PLACEHOLDERS)
    if unknown:
        allowed = ", ".join(f"${name}" for name in sorted(PLACEHOLDERS))
        shown = ", ".join(f"${name}" for name in unknown)
        raise TemplateError(f"unknown placeholder {shown} (allowed: {allowed})")
    if not text.strip() or not text.splitlines()[0].strip():
        raise TemplateError("the first line (the subject) must not be empty")


DEFAULT_HOLD_READY = (
    "Your library items are ready\n"
    "Hello $first_name,\n\n"
    "$count item(s) you asked for are waiting for you at the library.\n\n"
    "$library\n$contact\n"
)
DEFAULT_OVERDUE = (
    "Library items overdue\n"
    "Hello $first_name,\n\n"
    "$count item(s) you borrowed are past their due date. Please return or renew them.\n\n"
    "$library\n$contact\n"
)
DEFAULT_FEE = (
    "Library account\n"
    "Hello $first_name,\n\n"
    "You have $count open charge(s) on your library account. Please ask us for details.\n\n"
    "$library\n$contact\n"
)


@dataclass(frozen=True)
class NoticeTemplates:
    """The three templates; checked when built so a bad one fails at configuration load."""

    hold_ready: str = DEFAULT_HOLD_READY
    overdue: str = DEFAULT_OVERDUE
    fee: str = DEFAULT_FEE

    def __post_init__(self) -> None:
        for kind in NoticeKind:
            try:
                check_template(self.text(kind))
            except TemplateError as exc:
                raise TemplateError(f"{kind.value} template: {exc}") from None

    def text(self, kind: NoticeKind) -> str:
        return {
            NoticeKind.HOLD_READY: self.hold_ready,
            NoticeKind.OVERDUE: self.overdue,
            NoticeKind.FEE: self.fee,
        }[kind]


@dataclass(frozen=True)
class NoticeOptions:
    """What a run needs besides the store: who the library is, the templates, dry run or not."""

    library: str
    contact: str
    templates: NoticeTemplates = field(default_factory=NoticeTemplates)
    dry_run: bool = False
    first_run_lookback: dt.timedelta = FIRST_RUN_LOOKBACK


def render_notice(
    template: str, *, first_name: str, count: int, library: str, contact: str
) -> RenderedNotice:
    """Fill a template; its first line becomes the subject."""
    check_template(template)
    values = {"first_name": first_name, "count": str(count), "library": library, "contact": contact}
    # Split before filling in, so a line break inside a value cannot move text into the subject.
    subject_line, _, body = template.partition("\n")
    subject = string.Template(subject_line).substitute(values)
    filled = string.Template(body.lstrip("\n")).substitute(values)
    # A subject is one header line; a value with a line break must not start a new header.
    return RenderedNotice(subject=" ".join(subject.split()), body=filled)


def first_name(given_name: str) -> str:
    """The first of the given names: the least a notice needs to address someone (PRIV-10)."""
    parts = given_name.split()
    return parts[0] if parts else ""


@dataclass(frozen=True)
class NoticeReport:
    """What a run did, in counts only."""

    since: dt.datetime
    hold_ready: int = 0
    overdue: int = 0
    fee: int = 0
    emailed: int = 0
    printed: int = 0
    failed: int = 0
    recorded: int = 0
    dry_run: bool = False

    @property
    def notices(self) -> int:
        return self.hold_ready + self.overdue + self.fee


@dataclass(frozen=True)
class DueNotice:
    """One notice a run owes: to whom, of which kind, with the count it reports."""

    patron_id: int
    kind: NoticeKind
    count: int
    first_name: str
    email: str | None


def _window_start(session: Session, now: dt.datetime, lookback: dt.timedelta) -> dt.datetime:
    """The end of the previous run, from the audit log (which holds no patron for it)."""
    last = session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.action == RUN_ACTION))
    if last is None or last > now:
        return now - lookback
    return last


def _counts(session: Session, query: Select[int, int]) -> dict[int, int]:
    return {int(patron_id): int(count) for patron_id, count in session.execute(query)}


def _due_notices(
    session: Session, since: dt.datetime, now: dt.datetime, calendar: Calendar
) -> list[DueNotice]:
    """Who is owed which notice: only things that happened in [since, now) trigger one.

    Hold ready: the copy was put on the hold shelf in the window (the trapped item's
    status_changed_at, set when it is shelved). Overdue: a loan's due time passed in the window.
    Fee: an open fee was charged on a day from the window's first day up to the day before its
    last (fees keep the day only, PRIV-03), so each is counted once, by the first run on a
    later day. The count in a notice is the patron's current total of that kind, so one notice
    per patron and kind is enough.
    """
    on_shelf = Hold.status == HoldStatus.ON_SHELF.value
    shelved = (
        select(Hold.patron_id)
        .join(Item, Item.id == Hold.trapped_item_id)
        .where(on_shelf, Item.status_changed_at >= since, Item.status_changed_at < now)
    )
    became_overdue = select(Loan.patron_id).where(Loan.due_at >= since, Loan.due_at < now)
    open_fee = Fee.status == FeeStatus.OPEN.value
    first_day, last_day = start_of_day(since, calendar), start_of_day(now, calendar)
    charged = select(Fee.patron_id).where(
        open_fee, Fee.created_at >= first_day, Fee.created_at < last_day
    )
    triggered: Mapping[NoticeKind, Select[int, int]] = {
        NoticeKind.HOLD_READY: select(Hold.patron_id, func.count(Hold.id))
        .where(on_shelf, Hold.patron_id.in_(shelved))
        .group_by(Hold.patron_id),
        NoticeKind.OVERDUE: select(Loan.patron_id, func.count(Loan.id))
        .where(Loan.due_at < now, Loan.patron_id.in_(became_overdue))
        .group_by(Loan.patron_id),
        NoticeKind.FEE: select(Fee.patron_id, func.count(Fee.id))
        .where(open_fee, Fee.patron_id.in_(charged))
        .group_by(Fee.patron_id),
    }
    counts = {kind: _counts(session, query) for kind, query in triggered.items()}
    patron_ids = sorted({pid for by_patron in counts.values() for pid in by_patron})
    patrons: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(patron_ids), ID_BATCH):
        batch = patron_ids[start : start + ID_BATCH]
        query = select(Patron.id, Patron.given_name, Patron.email).where(Patron.id.in_(batch))
        patrons.update((row.id, (row.given_name, row.email)) for row in session.execute(query))
    due: list[DueNotice] = []
    for kind, by_patron in counts.items():
        for patron_id, count in sorted(by_patron.items()):
            given, email = patrons[patron_id]
            due.append(DueNotice(patron_id, kind, count, first_name(given), email or None))
    return due


def _deliver(
    due: Iterable[DueNotice], options: NoticeOptions, transport: NoticeTransport
) -> tuple[list[tuple[DueNotice, str]], int]:
    """Send each notice; return what was delivered through which channel, and the failures."""
    delivered: list[tuple[DueNotice, str]] = []
    failed = 0
    # E-mail first: a mail server refused for lack of STARTTLS stops the run before anything
    # is printed, so the whole run can be repeated once the server is fixed.
    for notice in sorted(due, key=lambda d: d.email is None or not transport.can_email):
        rendered = render_notice(
            options.templates.text(notice.kind),
            first_name=notice.first_name,
            count=notice.count,
            library=options.library,
            contact=options.contact,
        )
        if notice.email is not None and transport.can_email:
            try:
                transport.email(notice.email, rendered)
            except NoticeRefused:
                failed += 1
                continue
            delivered.append((notice, "email"))
        else:
            transport.print(rendered)
            delivered.append((notice, "print"))
    return delivered, failed


@dataclass(frozen=True)
class NoticePlan:
    """The notices one run owes, read from the store (no transaction stays open after)."""

    since: dt.datetime
    now: dt.datetime
    due: tuple[DueNotice, ...]

    def count(self, kind: NoticeKind) -> int:
        return sum(1 for d in self.due if d.kind is kind)


@dataclass(frozen=True)
class NoticeDelivery:
    """What a run delivered, through which channel, and how many the mail server refused."""

    delivered: tuple[tuple[DueNotice, str], ...]
    failed: int


def plan_notices(store: Store, now: dt.datetime, options: NoticeOptions) -> NoticePlan:
    """Read who is owed which notice since the previous run (one read transaction)."""
    with store.read() as uow:
        since = _window_start(uow.session, now, options.first_run_lookback)
        due = _due_notices(uow.session, since, now, store.env.rules.calendar)
    return NoticePlan(since, now, tuple(due))


def deliver_notices(
    plan: NoticePlan, options: NoticeOptions, transport: NoticeTransport
) -> NoticeDelivery:
    """Send or print every notice of the plan; touches no store, so it holds no lock and, in
    `serve`, runs off the database lane (a slow mail server delays no SIP2 answer)."""
    try:
        delivered, failed = _deliver(plan.due, options, transport)
    finally:
        transport.close()
    return NoticeDelivery(tuple(delivered), failed)


def record_notices(store: Store, plan: NoticePlan, delivery: NoticeDelivery) -> NoticeReport:
    """Remember the run (one write transaction): a sent-notice row only for patrons who opted
    in to `notification_history`, e-mailed or printed alike, and one audit event of counts."""
    now = plan.now
    recorded = 0
    with store.write() as uow:
        for notice, channel in delivery.delivered:
            # PRIV-10: notification history only with the patron's opt-in.
            if has_consent(uow.session, notice.patron_id, NOTIFICATION_HISTORY):
                uow.session.add(
                    SentNotice(
                        patron_id=notice.patron_id,
                        kind=notice.kind.value,
                        channel=channel,
                        sent_at=now,
                        summary=f"{notice.kind.value}: {notice.count}",
                    )
                )
                recorded += 1
        emailed = sum(1 for _, channel in delivery.delivered if channel == "email")
        report = NoticeReport(
            since=plan.since,
            hold_ready=plan.count(NoticeKind.HOLD_READY),
            overdue=plan.count(NoticeKind.OVERDUE),
            fee=plan.count(NoticeKind.FEE),
            emailed=emailed,
            printed=len(delivery.delivered) - emailed,
            failed=delivery.failed,
            recorded=recorded,
        )
        append_event(
            uow.session,
            now=now,
            actor=system_actor().label,
            action=RUN_ACTION,
            subject=None,
            detail={
                "hold_ready": report.hold_ready,
                "overdue": report.overdue,
                "fee": report.fee,
                "emailed": report.emailed,
                "printed": report.printed,
                "failed": report.failed,
                "recorded": report.recorded,
            },
        )
    return report


def send_notices(
    store: Store, now: dt.datetime, options: NoticeOptions, transport: NoticeTransport
) -> NoticeReport:
    """Send the notices due since the previous run; keep them only for patrons who opted in.

    A run is remembered by one audit event holding counts only, whose time starts the next
    run's window; so nothing is sent twice and nothing about non-consenting patrons is kept
    (PRIV-03, PRIV-10). A DeliveryError stops the run before it is remembered. Plan, deliver
    and record are the three steps below; delivery happens with no transaction open.
    """
    plan = plan_notices(store, now, options)
    if options.dry_run:
        emailed = sum(1 for d in plan.due if d.email is not None and transport.can_email)
        return NoticeReport(
            since=plan.since,
            hold_ready=plan.count(NoticeKind.HOLD_READY),
            overdue=plan.count(NoticeKind.OVERDUE),
            fee=plan.count(NoticeKind.FEE),
            emailed=emailed,
            printed=len(plan.due) - emailed,
            dry_run=True,
        )
    return record_notices(store, plan, deliver_notices(plan, options, transport))
