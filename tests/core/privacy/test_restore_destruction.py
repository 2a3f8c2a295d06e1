"""A restore never undoes what the live store destroyed for privacy (PRIV-02, PRIV-07)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from core.model import Consent, Hold, Item, ItemStatus, Loan, ReadingHistory
from core.model.legal import LegalRequest
from core.model.notices import SentNotice
from core.model.privacy import ConsentEvent
from core.model.retention import DestructionLedgerEntry
from core.policy.consent_kinds import CHECKOUT_HISTORY, NOTIFICATION_HISTORY
from core.policy.retention import RetentionRules
from core.policy.rules import CirculationRules
from core.privacy import legal
from core.privacy.backup import backup, restore
from core.privacy.consents import grant_consent, withdraw_consent
from core.privacy.export import export_as_text, export_patron
from core.security.keys import load_key
from core.services import circulation, holds
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.store.open import StoreOptions, open_store
from core.store.uow import Store
from tests.conftest import FAST_ARGON2, NOW, add_patron, add_record_with_items

OFFICER = Actor(ActorKind.STAFF, "pia", Role.PRIVACY_OFFICER)
ADMIN = local_admin()
HOUR = dt.timedelta(hours=1)


def reopen(options: StoreOptions) -> Store:
    return open_store(options, CirculationRules(), FAST_ARGON2)


def count(store: Store, column: object) -> int:
    with store.read() as uow:
        return int(uow.session.scalar(select(func.count(column))) or 0)  # type: ignore[call-overload]


def test_a_withdrawal_and_a_return_after_the_backup_survive_its_restore(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    add_record_with_items(store, "Remembered-Title-7781", ["READ-1"])
    add_record_with_items(store, "Still-Out-Title-4410", ["OUT-1"])
    add_patron(store, "P1", given="Ada")
    with store.write() as uow:
        grant_consent(uow, ADMIN, NOW, "P1", CHECKOUT_HISTORY, "desk")
    with store.write() as uow:
        circulation.checkout(uow, ADMIN, NOW, "P1", "READ-1")
    with store.write() as uow:
        circulation.checkin(uow, ADMIN, NOW + HOUR, "READ-1")  # history, by consent
    with store.write() as uow:
        circulation.checkout(uow, ADMIN, NOW + HOUR, "P1", "OUT-1")  # out at the backup
    assert (count(store, Consent.id), count(store, ReadingHistory.id)) == (1, 1)
    assert count(store, Loan.id) == 1

    old = tmp_path / "before-withdrawal.db"
    backup(store, load_key(store_options.key_file), old, now=NOW + 2 * HOUR)

    with store.write() as uow:
        change = withdraw_consent(uow, ADMIN, NOW + 3 * HOUR, "P1", CHECKOUT_HISTORY, "desk")
    assert change.deleted == 1
    with store.write() as uow:
        circulation.checkin(uow, ADMIN, NOW + 3 * HOUR, "OUT-1")
    store.close()

    report = restore(store_options, old, RetentionRules(), NOW + 4 * HOUR)
    assert report.destroyed_replayed == {"consents": 1, "reading_history": 1, "loans": 1}
    assert "reading_history 1" in report.text()
    assert "Remembered-Title" not in report.text()

    restored = reopen(store_options)
    try:
        assert count(restored, Consent.id) == 0
        assert count(restored, ReadingHistory.id) == 0
        assert count(restored, Loan.id) == 0
        with restored.read() as uow:
            statuses = set(uow.session.scalars(select(Item.status)))
            withdrawals = uow.session.scalars(
                select(ConsentEvent.channel).where(ConsentEvent.granted.is_(False))
            ).all()
        assert statuses == {ItemStatus.AVAILABLE.value}  # the returned copy is on the shelf
        assert withdrawals == ["restore"]  # the consent history says it was withdrawn
        with restored.write() as uow:
            export = export_patron(uow, OFFICER, NOW + 5 * HOUR, "P1")
        tables = {t.name: t for t in export.tables}
        assert tables["consents"].rows == ()
        assert tables["reading_history"].rows == ()
        assert tables["loans"].rows == ()
        history = tables["consent_events"]
        names = [column.name for column in history.columns]
        events = [dict(zip(names, row, strict=True)) for row in history.rows]
        assert [(e["granted"], e["channel"]) for e in events] == [
            (True, "desk"),
            (False, "restore"),
        ]
        audit = tables["audit_events"]
        actions = [row[[c.name for c in audit.columns].index("action")] for row in audit.rows]
        assert actions.count("consent.withdraw") == 1  # the export says it was withdrawn
        text = export_as_text(export)
        assert "Remembered-Title" not in text and "Still-Out-Title" not in text
        # The restored store's ledger still holds every destruction, for the next restore.
        assert count(restored, DestructionLedgerEntry.id) >= 3
    finally:
        restored.close()


def test_notices_holds_and_legal_requests_deleted_after_the_backup_stay_deleted(
    store: Store, store_options: StoreOptions, tmp_path: Path
) -> None:
    record = add_record_with_items(store, "Wanted", ["W-1"])
    patron = add_patron(store, "P2")
    with store.write() as uow:
        grant_consent(uow, ADMIN, NOW, "P2", NOTIFICATION_HISTORY, "desk")
        uow.session.add(
            SentNotice(patron_id=patron, kind="overdue", channel="email", sent_at=NOW, summary="1")
        )
    with store.write() as uow:
        holds.place_hold(uow, ADMIN, NOW, "P2", record_id=record)
    with store.write() as uow:
        request = legal.record_request(
            uow,
            OFFICER,
            NOW,
            agency="County Sheriff",
            instrument="subpoena",
            court="County",
            case_number="CR-9",
            patrons=["P2"],
            classes=["profile"],
        )
        legal.review_request(uow, OFFICER, NOW, request.id, "reject", "not valid")
        legal.close_request(uow, OFFICER, NOW, request.id)
    old = tmp_path / "b.db"
    backup(store, load_key(store_options.key_file), old, now=NOW + HOUR)

    with store.write() as uow:
        withdraw_consent(uow, ADMIN, NOW + 2 * HOUR, "P2", NOTIFICATION_HISTORY, "desk")
    with store.write() as uow:
        holds.cancel_hold(uow, ADMIN, NOW + 2 * HOUR, "P2", record_id=record)
    with store.write() as uow:
        legal.delete_request(uow, OFFICER, NOW + 2 * HOUR, request.id)
    store.close()

    report = restore(store_options, old, RetentionRules(), NOW + 3 * HOUR)
    assert report.destroyed_replayed == {
        "consents": 1,
        "sent_notices": 1,
        "holds": 1,
        "legal_requests": 1,
    }
    restored = reopen(store_options)
    try:
        for column in (Consent.id, SentNotice.id, Hold.id, LegalRequest.id):
            assert count(restored, column) == 0, column
    finally:
        restored.close()
