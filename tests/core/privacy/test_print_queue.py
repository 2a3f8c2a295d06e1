"""Printed notices: one private file per run, deleted after its time, history only on consent,
and the self-audit checks the files' age and mode (PRIV-10, PRIV-08)."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

from sqlalchemy import select

from core.model import Consent, Loan
from core.model.notices import SentNotice
from core.policy.consent_kinds import NOTIFICATION_HISTORY
from core.privacy.delivery import MailAndPrint, delete_old_print_files, print_file, print_files
from core.privacy.notices import NoticeOptions, send_notices
from core.privacy.selfaudit import AuditFacts, AuditStatus, check_print_queue
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

OPTIONS = NoticeOptions(library="Riverside Library", contact="desk 555-0100")
HOUR = dt.timedelta(hours=1)
KEEP = dt.timedelta(hours=48)


def _overdue(store: Store, barcode: str, item_id: int, consent: bool) -> int:
    patron = add_patron(store, barcode, given=f"Name-{barcode}")
    with store.write() as uow:
        uow.session.add(
            Loan(
                patron_id=patron,
                item_id=item_id,
                branch="main",
                checked_out_at=NOW - 30 * 24 * HOUR,
                due_at=NOW - 2 * HOUR,
            )
        )
        if consent:
            uow.session.add(
                Consent(patron_id=patron, kind=NOTIFICATION_HISTORY, granted_at=NOW, channel="d")
            )
    return patron


def _age(path: Path, moment: dt.datetime) -> None:
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def test_each_run_prints_to_its_own_private_file_and_old_files_go(
    store: Store, tmp_path: Path
) -> None:
    add_record_with_items(store, "Title", ["I1", "I2"])
    keeps = _overdue(store, "P1", 1, consent=True)
    _overdue(store, "P2", 2, consent=False)
    folder = tmp_path / "print-queue"
    facts = AuditFacts(key_path=tmp_path / "k", print_folder=folder, print_keep=KEEP)
    assert check_print_queue(NOW, facts).status is AuditStatus.PASS  # nothing printed yet

    report = send_notices(store, NOW, OPTIONS, MailAndPrint(None, print_file(folder, NOW)))
    assert report.printed == 2 and report.recorded == 1
    later = NOW + HOUR
    send_notices(store, later, OPTIONS, MailAndPrint(None, print_file(folder, later)))

    (first,) = print_files(folder)  # the second run owed nothing: no file
    assert "Name-P1" in first.read_text() and "Name-P2" in first.read_text()
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with store.read() as uow:  # only the consenting patron's printed notice is remembered
        kept = uow.session.execute(select(SentNotice.patron_id, SentNotice.channel)).all()
    assert [tuple(row) for row in kept] == [(keeps, "print")]

    _age(first, NOW)
    assert check_print_queue(NOW + HOUR, facts).status is AuditStatus.PASS
    overdue = check_print_queue(NOW + KEEP + HOUR, facts)
    assert overdue.status is AuditStatus.FAIL and "not deleted" in overdue.detail
    assert delete_old_print_files(folder, NOW + HOUR, KEEP) == 0
    assert delete_old_print_files(folder, NOW + KEEP + HOUR, KEEP) == 1
    assert print_files(folder) == []


def test_the_audit_fails_a_print_file_others_can_read(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "print-queue"
    folder.mkdir(mode=0o700)
    loose = print_file(folder, NOW)
    loose.write_text("Hello Ada")
    loose.chmod(0o644)
    facts = AuditFacts(key_path=tmp_path / "k", print_folder=folder, print_keep=KEEP)
    item = check_print_queue(dt.datetime.now(dt.UTC), facts)
    assert item.status is AuditStatus.FAIL and "mode 0644" in item.detail
