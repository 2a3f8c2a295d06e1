"""The breach report: per data class, how many patrons' data was reachable in a window (PRIV-15)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select

from core.audit import append_event
from core.model import Fee, Hold, Loan, Patron, ReadingHistory
from core.model.notices import SentNotice
from core.policy.calendar import local_date
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

CAVEAT = (
    "Counts cover patrons whose record existed by the end of the window and is still held. "
    "Patrons purged since, and loans, holds or notices deleted since, cannot be counted: this "
    "store keeps no trace of them (PRIV-07). Each count is an upper bound for that class of "
    "data being reachable in the window, not proof that it was read."
)

# Fixed classes of patron data, described for the person who must notify (PRIV-15).
CLASS_DESCRIPTIONS: dict[str, str] = {
    "name": "name (given and family name) and library card number",
    "contact": "contact details (e-mail address or phone number)",
    "pin_hash": "hashed PIN (argon2id; the PIN itself is never stored)",
    "staff_note": "staff note on the account",
    "loans": "items currently on loan",
    "holds": "holds (requested titles)",
    "fees": "fees and fines",
    "reading_history": "reading history (kept only with the patron's consent)",
    "notices": "copies of notices sent (kept only with the patron's consent)",
}


@dataclass(frozen=True)
class ClassCount:
    """How many patrons had one class of data reachable."""

    data_class: str
    description: str
    patrons: int


@dataclass(frozen=True)
class BreachReport:
    """Counts only: the report itself names nobody."""

    window_from: dt.datetime
    window_to: dt.datetime
    patrons: int
    classes: tuple[ClassCount, ...]
    caveat: str = CAVEAT


def breach_report(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    window_from: dt.datetime,
    window_to: dt.datetime,
) -> BreachReport:
    """Count, per data class, the patrons whose data the store held during the window."""
    actor.require(Permission.PII_REPORTS)
    if window_to < window_from:
        raise ValueError("the window ends before it starts")
    last_day = local_date(window_to, uow.env.rules.calendar)
    existed = Patron.created_on <= last_day
    session = uow.session

    def patrons_where(*conditions: ColumnElement[bool]) -> int:
        query = select(func.count(Patron.id)).where(existed, *conditions)
        return int(session.scalar(query) or 0)

    def patrons_in(linked: Select[int]) -> int:
        return patrons_where(Patron.id.in_(linked))

    counts = {
        "name": patrons_where(),
        "contact": patrons_where(or_(Patron.email.is_not(None), Patron.phone.is_not(None))),
        "pin_hash": patrons_where(Patron.pin_hash.is_not(None)),
        "staff_note": patrons_where(Patron.note.is_not(None)),
        "loans": patrons_in(select(Loan.patron_id).where(Loan.checked_out_at <= window_to)),
        "holds": patrons_in(select(Hold.patron_id).where(Hold.placed_at <= window_to)),
        "fees": patrons_in(select(Fee.patron_id).where(Fee.created_at <= window_to)),
        "reading_history": patrons_in(
            select(ReadingHistory.patron_id).where(ReadingHistory.returned_on <= last_day)
        ),
        "notices": patrons_in(select(SentNotice.patron_id).where(SentNotice.sent_at <= window_to)),
    }
    report = BreachReport(
        window_from=window_from,
        window_to=window_to,
        patrons=counts["name"],
        classes=tuple(
            ClassCount(name, CLASS_DESCRIPTIONS[name], count) for name, count in counts.items()
        ),
    )
    append_event(
        session,
        now=now,
        actor=actor.label,
        action="privacy.breach_report",
        subject=None,
        detail={
            "from": window_from.isoformat(),
            "to": window_to.isoformat(),
            **{f"count_{name}": count for name, count in counts.items()},
        },
    )
    return report


def draft_notice(
    report: BreachReport, *, library_name: str = "[LIBRARY NAME]", contact: str = "[CONTACT]"
) -> str:
    """A minimal notice to adapt and send; it names no patron and lists only affected classes."""
    affected = [c.description for c in report.classes if c.patrons > 0]
    listed = "\n".join(f"  - {line}" for line in affected) or "  - [DATA CONCERNED]"
    pin_affected = any(c.data_class == "pin_hash" and c.patrons > 0 for c in report.classes)
    pin_advice = (
        "Your PIN itself was never stored, only a one-way hash of it; we nevertheless advise you\n"
        "to choose a new PIN at a self-check kiosk or at the desk.\n\n"
        if pin_affected
        else ""
    )
    start = report.window_from.date().isoformat()
    end = report.window_to.date().isoformat()
    return (
        "Dear library member,\n"
        "\n"
        f"Between {start} and {end}, {library_name} [WHAT HAPPENED, IN ONE SENTENCE].\n"
        "The following kinds of information about library members may have been reachable:\n"
        f"{listed}\n"
        "\n"
        f"{pin_advice}"
        "What we have done: [STEPS TAKEN].\n"
        f"If you have questions, please contact {contact}.\n"
        "\n"
        f"{library_name}\n"
    )
