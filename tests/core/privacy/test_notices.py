"""Notices: minimal content, consent-gated history, one notice per event, delivery (PRIV-10)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from core.model import AuditEvent, Consent, Fee, FeeStatus, Hold, HoldStatus, Patron
from core.model.notices import SentNotice
from core.policy.consent_kinds import NOTIFICATION_HISTORY
from core.privacy.delivery import MailAndPrint
from core.privacy.notices import (
    RUN_ACTION,
    NoticeOptions,
    NoticeTemplates,
    TemplateError,
    check_template,
    render_notice,
    send_notices,
)
from core.services import circulation, holds
from core.services.actors import local_admin
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

ADMIN = local_admin("main")
OPTIONS = NoticeOptions(library="Riverside Library", contact="desk 555-0100")
TITLES = ("The Secret Garden", "Pedagogy of the Oppressed")
ITEM_BARCODES = ("31000001", "31000002", "31000003")
PATRON_BARCODES = ("21000001", "21000002")


def grant(store: Store, patron_id: int, kind: str) -> None:
    with store.write() as uow:
        uow.session.add(Consent(patron_id=patron_id, kind=kind, granted_at=NOW, channel="desk"))


def set_email(store: Store, patron_id: int, email: str) -> None:
    with store.write() as uow:
        uow.session.get_one(Patron, patron_id).email = email


def populate(store: Store) -> tuple[int, int]:
    """Ada (e-mail, opted in to notification history) and Grace (no e-mail, no consent).

    In the day before NOW: Ada's loan fell due and an item she asked for reached the hold
    shelf; Grace's loan fell due and she was charged a fee.
    """
    ada = add_patron(store, PATRON_BARCODES[0], given="Ada Augusta", family="Lovelace")
    grace = add_patron(store, PATRON_BARCODES[1], given="Grace", family="Hopper")
    set_email(store, ada, "ada@example.org")
    grant(store, ada, NOTIFICATION_HISTORY)
    add_record_with_items(store, TITLES[0], [ITEM_BARCODES[0], ITEM_BARCODES[1]])
    shelf_record = add_record_with_items(store, TITLES[1], [ITEM_BARCODES[2]])
    # Lent on Tuesday 10 February: a book is due at the end of Tuesday 3 March, the day before NOW.
    lent = NOW - dt.timedelta(days=22)
    with store.write() as uow:
        for patron, item in (
            (PATRON_BARCODES[0], ITEM_BARCODES[0]),
            (PATRON_BARCODES[1], ITEM_BARCODES[1]),
        ):
            circulation.checkout(uow, ADMIN, lent, patron, item)
    with store.write() as uow:
        holds.place_hold(
            uow, ADMIN, NOW - dt.timedelta(days=3), PATRON_BARCODES[0], record_id=shelf_record
        )
    with store.write() as uow:
        circulation.checkin(uow, ADMIN, NOW - dt.timedelta(hours=1), ITEM_BARCODES[2])
        uow.session.add(
            Fee(
                patron_id=grace,
                kind="lost_card",
                amount=300,
                balance=300,
                status=FeeStatus.OPEN.value,
                # Fees keep the day only (PRIV-03): charged the day before NOW.
                created_at=NOW.replace(hour=0) - dt.timedelta(days=1),
            )
        )
    with store.read() as uow:
        assert uow.session.scalars(select(Hold.status)).one() == HoldStatus.ON_SHELF.value
    return ada, grace


def read_queue(path: Path) -> list[str]:
    pages = path.read_text(encoding="utf-8").split("\f")
    assert pages[-1].strip() == ""
    return [page.strip() for page in pages[:-1]]


def assert_minimal(text: str) -> None:
    """PRIV-10: no titles, no barcodes, no family names, no second given names."""
    for secret in (*TITLES, *ITEM_BARCODES, *PATRON_BARCODES, "Lovelace", "Hopper", "Augusta"):
        assert secret not in text


def test_notices_say_first_name_counts_and_library_only(store: Store, tmp_path: Path) -> None:
    populate(store)
    queue = tmp_path / "print-queue.txt"
    report = send_notices(store, NOW, OPTIONS, MailAndPrint(None, queue))
    assert (report.hold_ready, report.overdue, report.fee) == (1, 2, 1)
    assert (report.emailed, report.printed, report.failed) == (0, 4, 0)
    pages = read_queue(queue)
    assert len(pages) == 4
    for page in pages:
        assert_minimal(page)
        assert "Riverside Library" in page and "desk 555-0100" in page
    assert sum("Hello Ada," in page for page in pages) == 2
    assert sum("Hello Grace," in page for page in pages) == 2
    assert any("1 item(s) you asked for are waiting" in page for page in pages)
    assert oct(queue.stat().st_mode & 0o777) == oct(0o600)


def test_history_is_kept_only_with_notification_history_consent(
    store: Store, tmp_path: Path
) -> None:
    ada, grace = populate(store)
    report = send_notices(store, NOW, OPTIONS, MailAndPrint(None, tmp_path / "q.txt"))
    with store.read() as uow:
        kept = uow.session.scalars(select(SentNotice).order_by(SentNotice.kind)).all()
        runs = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == RUN_ACTION)).all()
    assert report.recorded == 2
    assert [(n.patron_id, n.kind, n.channel) for n in kept] == [
        (ada, "hold_ready", "print"),
        (ada, "overdue", "print"),
    ]
    assert all(grace != n.patron_id for n in kept)
    for notice in kept:
        assert_minimal(notice.summary)
    # The run itself is remembered by counts only: no patron, no pseudonym (PRIV-03).
    assert len(runs) == 1 and runs[0].subject is None and runs[0].at == NOW
    detail = json.loads(runs[0].detail)
    assert detail["overdue"] == 2 and detail["recorded"] == 2
    assert set(detail.values()) <= set(range(10))


def test_nothing_is_sent_twice(store: Store, tmp_path: Path) -> None:
    populate(store)
    queue = tmp_path / "q.txt"
    send_notices(store, NOW, OPTIONS, MailAndPrint(None, queue))
    again = send_notices(store, NOW + dt.timedelta(minutes=5), OPTIONS, MailAndPrint(None, queue))
    assert again.notices == 0 and again.since == NOW
    # The next day a second loan falls due: one overdue notice counting both of Ada's loans.
    with store.write() as uow:
        # Lent 21 days before NOW: due at the end of NOW's day.
        circulation.checkout(
            uow, ADMIN, NOW - dt.timedelta(days=21), PATRON_BARCODES[0], ITEM_BARCODES[2]
        )
    later = send_notices(store, NOW + dt.timedelta(days=1), OPTIONS, MailAndPrint(None, queue))
    assert (later.hold_ready, later.overdue, later.fee) == (0, 1, 0)
    assert "2 item(s) you borrowed" in read_queue(queue)[-1]


def test_dry_run_counts_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    populate(store)
    queue = tmp_path / "q.txt"
    dry = NoticeOptions(library="L", contact="C", dry_run=True)
    report = send_notices(store, NOW, dry, MailAndPrint(None, queue))
    assert report.dry_run and report.notices == 4 and report.printed == 4
    assert not queue.exists()
    with store.read() as uow:
        assert uow.session.scalars(select(SentNotice)).all() == []
        assert (
            uow.session.scalars(select(AuditEvent).where(AuditEvent.action == RUN_ACTION)).all()
            == []
        )
    assert send_notices(store, NOW, OPTIONS, MailAndPrint(None, queue)).notices == 4


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Subject\nYour $title is due", "unknown placeholder $title"),
        ("Subject\nItem ${barcode}", "unknown placeholder $barcode"),
        ("Subject\nCost $5", "'$' not followed"),
        ("\nHello $first_name", "subject"),
    ],
)
def test_templates_with_other_placeholders_are_refused(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("$", r"\$")):
        check_template(template)
    with pytest.raises(TemplateError, match="overdue template"):
        NoticeTemplates(overdue=template)


def test_rendering_keeps_the_subject_on_one_line() -> None:
    notice = render_notice(
        "Hi $first_name\nBody for $first_name: $count at $library ($contact)",
        first_name="Eve\nBcc: x@y",
        count=3,
        library="L",
        contact="C",
    )
    assert "\n" not in notice.subject
    assert notice.body == "Body for Eve\nBcc: x@y: 3 at L (C)"
