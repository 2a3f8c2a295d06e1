"""Purge on a real SQLCipher store: each rule, dry run, ledger, audit, no trace left (PRIV-07)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import func, select, text

from core.audit import append_event, verify_chain
from core.model import (
    AuditEvent,
    CirculationCount,
    Consent,
    Fee,
    FeePayment,
    Hold,
    Loan,
    Patron,
    ReadingHistory,
)
from core.model.legal import LegalRequest, LegalRequestPatron
from core.model.notices import SentNotice
from core.model.retention import AuditCheckpoint, PurgeLedgerEntry, PurgeRun
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.policy.retention import RetentionRules, patron_expires
from core.privacy.purge import last_purge_at, purge, run_retention
from core.security.keys import PURGE_LEDGER_LABEL, derive_subkey, load_key
from core.store.open import StoreOptions, instance_secret
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

RULES = RetentionRules()
D = dt.date
DAY = dt.timedelta(days=1)


def set_patron(store: Store, patron_id: int, **values: object) -> None:
    with store.write() as uow:
        patron = uow.session.get(Patron, patron_id)
        assert patron is not None
        for name, value in values.items():
            setattr(patron, name, value)


def patron_ids(store: Store) -> set[int]:
    with store.read() as uow:
        return set(uow.session.scalars(select(Patron.id)))


def count(store: Store, column: object) -> int:
    with store.read() as uow:
        return int(uow.session.scalar(select(func.count(column))) or 0)  # type: ignore[call-overload]


def add_expired(store: Store, barcode: str, given: str = "Ada", family: str = "Lovelace") -> int:
    return add_patron(
        store, barcode, given=given, family=family, expires_on=D(2023, 1, 1)
    )  # expired more than two years before NOW


# --- the rules, one data class at a time -------------------------------------------------------


def test_patrons_expired_or_inactive_go_unless_something_is_open(store: Store) -> None:
    add_record_with_items(store, "A Title", ["I1", "I2"])
    cases = {  # barcode: (expires_on, last_activity_on, open business)
        "EXPIRED": (D(2024, 3, 3), D(2025, 1, 1), None),
        "EXPIRED-EDGE": (D(2024, 3, 4), D(2025, 1, 1), None),
        "INACTIVE": (D(2030, 1, 1), D(2023, 3, 3), None),
        "INACTIVE-EDGE": (D(2030, 1, 1), D(2023, 3, 4), None),
        "ACTIVE": (D(2030, 1, 1), D(2026, 3, 1), None),
        "OLD-WITH-LOAN": (D(2020, 1, 1), D(2020, 1, 1), "loan"),
        "OLD-WITH-HOLD": (D(2020, 1, 1), D(2020, 1, 1), "hold"),
        "OLD-WITH-OPEN-FEE": (D(2020, 1, 1), D(2020, 1, 1), "fee"),
        "OLD-WITH-PAID-FEE": (D(2020, 1, 1), D(2020, 1, 1), "paid"),
        # Legal hold (PRIV-13): the pure rule and the purge's SQL share one definition.
        "OLD-IN-RECEIVED-REQUEST": (D(2020, 1, 1), D(2020, 1, 1), "legal:received"),
        "OLD-IN-APPROVED-REQUEST": (D(2020, 1, 1), D(2020, 1, 1), "legal:approved"),
        "OLD-IN-DISCLOSED-REQUEST": (D(2020, 1, 1), D(2020, 1, 1), "legal:disclosed"),
        "OLD-IN-CLOSED-REQUEST": (D(2020, 1, 1), D(2020, 1, 1), "legal:closed"),
        "OLD-IN-REJECTED-REQUEST": (D(2020, 1, 1), D(2020, 1, 1), "legal:rejected"),
    }
    ids: dict[str, int] = {}
    for barcode, (expires_on, last_activity, business) in cases.items():
        pid = add_patron(store, barcode, expires_on=expires_on)
        ids[barcode] = pid
        set_patron(store, pid, last_activity_on=last_activity)
        with store.write() as uow:
            s = uow.session
            if business == "loan":
                s.add(Loan(patron_id=pid, item_id=1, branch="main", checked_out_at=NOW, due_at=NOW))
            elif business == "hold":
                s.add(Hold(patron_id=pid, record_id=1, pickup_branch="main", placed_at=NOW))
            elif business is not None and business.startswith("legal:"):
                request = LegalRequest(
                    agency="Court",
                    instrument="subpoena",
                    scope_classes="[]",
                    received_at=NOW,
                    recorded_by="olivia",
                    status=business.removeprefix("legal:"),
                )
                s.add(request)
                s.flush()
                s.add(LegalRequestPatron(request_id=request.id, barcode=barcode))
            elif business in ("fee", "paid"):
                settled = business == "paid"
                fee = Fee(
                    patron_id=pid,
                    kind="overdue",
                    amount=100,
                    balance=0 if settled else 100,
                    status="paid" if settled else "open",
                    created_at=NOW - 10 * DAY,
                    settled_at=NOW - 5 * DAY if settled else None,
                )
                s.add(fee)
                s.flush()
                if settled:
                    s.add(FeePayment(fee_id=fee.id, amount=100, method="cash", paid_at=NOW))
    cut = RULES.cutoffs(NOW)
    expected_gone = {
        ids[b]
        for b, (exp, act, business) in cases.items()
        if patron_expires(
            exp,
            act,
            business in ("loan", "hold", "fee"),
            cut,
            legal_request_statuses=[business.removeprefix("legal:")] if business else [],
        )
    }
    assert expected_gone == {
        ids[b]
        for b in (
            "EXPIRED",
            "INACTIVE",
            "OLD-WITH-PAID-FEE",
            "OLD-IN-CLOSED-REQUEST",
            "OLD-IN-REJECTED-REQUEST",
        )
    }  # the pure rule and this table agree

    report = purge(store, NOW, RULES)

    assert report.patrons == 5
    assert patron_ids(store) == set(ids.values()) - expected_gone
    assert count(store, FeePayment.id) == 0  # the paid fee went with its patron
    assert count(store, Fee.id) == 1  # the open fee stays


def test_reading_history_only_with_consent_and_not_after_long_inactivity(store: Store) -> None:
    consenting = add_patron(store, "C1")
    no_consent = add_patron(store, "C2")
    dormant = add_patron(store, "C3")  # consented, but inactive 2.5 years (not yet purged)
    set_patron(store, dormant, last_activity_on=D(2023, 9, 1))
    with store.write() as uow:
        for pid in (consenting, dormant):
            uow.session.add(
                Consent(patron_id=pid, kind=CHECKOUT_HISTORY, granted_at=NOW, channel="desk")
            )
        for pid in (consenting, no_consent, dormant):
            uow.session.add(
                ReadingHistory(patron_id=pid, title="T", author="A", returned_on=D(2026, 1, 1))
            )
    report = purge(store, NOW, RULES)
    assert report.reading_history == 2 and report.patrons == 0
    with store.read() as uow:
        left = list(uow.session.scalars(select(ReadingHistory.patron_id)))
    assert left == [consenting]


def test_settled_fees_notices_and_notes_expire_and_statistics_stay(store: Store) -> None:
    pid = add_patron(store, "F1")
    other = add_patron(store, "F2")
    set_patron(store, pid, note="call about the broken spine", note_expires_on=D(2026, 3, 3))
    set_patron(store, other, note="keeps", note_expires_on=D(2026, 3, 4))
    with store.write() as uow:
        s = uow.session
        for settled_days, status in ((91, "paid"), (91, "waived"), (89, "paid"), (None, "open")):
            settled_at = NOW - settled_days * DAY if settled_days else None
            s.add(
                Fee(
                    patron_id=pid,
                    kind="lost",
                    amount=5,
                    balance=0 if settled_at else 5,
                    status=status,
                    created_at=NOW - 200 * DAY,
                    settled_at=settled_at,
                )
            )
        for days in (31, 29):
            s.add(
                SentNotice(
                    patron_id=pid,
                    kind="overdue",
                    channel="email",
                    sent_at=NOW - days * DAY,
                    summary="1 item overdue",
                )
            )
        s.add(
            CirculationCount(
                day=D(2015, 1, 1),
                branch="main",
                media_type="book",
                patron_category="adult",
                event="checkout",
                count=3,
            )
        )
    report = purge(store, NOW, RULES)
    assert (report.settled_fees, report.sent_notices, report.staff_notes) == (2, 1, 1)
    with store.read() as uow:
        s = uow.session
        assert sorted(s.scalars(select(Fee.status))) == ["open", "paid"]
        assert s.scalar(select(func.count(SentNotice.id))) == 1
        notes = {row[0]: row[1] for row in s.execute(select(Patron.id, Patron.note))}
        assert notes == {pid: None, other: "keeps"}
        assert s.scalar(select(func.count(CirculationCount.id))) == 1  # statistics are kept


def test_batches_each_commit_and_cover_everything(store: Store) -> None:
    for n in range(7):
        add_expired(store, f"B{n}")
    report = purge(store, NOW, RULES, batch_size=2)
    assert report.patrons == 7 and patron_ids(store) == set()


# --- dry run, ledger, run record, audit --------------------------------------------------------


def test_dry_run_counts_only_names_nobody_and_changes_nothing(store: Store) -> None:
    add_expired(store, "SECRET-BARCODE-1", given="Philomena", family="Quist")
    add_expired(store, "SECRET-BARCODE-2", given="Bartholomew", family="Zeller")
    add_patron(store, "KEPT-1")
    report = purge(store, NOW, RULES, dry_run=True)
    assert report.dry_run and report.patrons == 2
    output = report.text()
    assert "would remove" in output and "expired or inactive patrons: 2" in output
    for secret in ("SECRET-BARCODE", "Philomena", "Quist", "Bartholomew", "Zeller", "KEPT-1"):
        assert secret not in output
    assert len(patron_ids(store)) == 3
    with store.read() as uow:
        assert last_purge_at(uow.session) is None
        assert uow.session.scalar(select(func.count(PurgeLedgerEntry.id))) == 0
    # the real run removes exactly what the dry run counted
    assert purge(store, NOW, RULES).counts() == report.counts()


def test_purge_records_the_run_the_ledger_and_one_audit_event_with_counts(store: Store) -> None:
    add_expired(store, "LEDGER-1", given="Ottoline")
    with store.read() as uow:
        assert last_purge_at(uow.session) is None
    report = purge(store, NOW, RULES)
    assert report.patrons == 1
    subkey = derive_subkey(instance_secret(store.engine), PURGE_LEDGER_LABEL)
    expected = hmac.new(subkey, b"LEDGER-1", hashlib.sha256).hexdigest()
    with store.read() as uow:
        s = uow.session
        assert last_purge_at(s) == NOW
        run = s.scalars(select(PurgeRun)).one()
        assert run.patrons == 1
        ledger = s.execute(select(PurgeLedgerEntry.digest, PurgeLedgerEntry.purged_on)).all()
        assert [tuple(row) for row in ledger] == [(expected, NOW.date())]
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).all()
        assert len(events) == 1 and events[0].subject is None
        assert '"patrons":1' in events[0].detail
        for secret in ("LEDGER-1", "Ottoline", "Lovelace"):
            assert secret not in events[0].detail
        assert verify_chain(s).first_broken is None


def _append_at(store: Store, moment: dt.datetime, n: int) -> None:
    with store.write() as uow:
        for _ in range(n):
            append_event(uow.session, now=moment, actor="admin:test", action="t", subject=None)


def test_old_audit_events_go_behind_a_checkpoint_and_the_chain_still_verifies(
    store: Store,
) -> None:
    _append_at(store, NOW - 3 * 365 * DAY, 5)  # older than two years: ids 1-5
    _append_at(store, NOW - 10 * DAY, 3)  # ids 6-8
    report = purge(store, NOW, RULES, batch_size=2)
    assert report.audit_events == 5 and report.audit_chain_intact
    with store.read() as uow:
        s = uow.session
        ids = list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
        checkpoint = s.scalars(select(AuditCheckpoint)).one()
        chain = verify_chain(s)
    assert ids == [6, 7, 8, 9]  # 9 is the retention.purge event
    assert checkpoint.last_event_id == 5
    assert chain.first_broken is None and chain.events == 4
    with store.write() as uow:  # an edit after the checkpoint is still found
        uow.session.execute(text("UPDATE audit_events SET actor = 'x' WHERE id = 6"))
    with store.read() as uow:
        assert verify_chain(uow.session).first_broken == 6


def test_every_audit_event_may_go_and_the_chain_continues(store: Store) -> None:
    _append_at(store, NOW - 3 * 365 * DAY, 3)
    purge(store, NOW, RULES)  # removes 1-3, appends the purge event 4
    later = NOW + 3 * 365 * DAY
    report = purge(store, later, RULES)  # removes event 4 too: the table is empty for a moment
    assert report.audit_events == 1
    with store.read() as uow:
        ids = list(uow.session.scalars(select(AuditEvent.id)))
        chain = verify_chain(uow.session)
    assert ids == [5] and chain.first_broken is None


def test_an_edited_old_event_is_kept_not_hidden_by_retention(store: Store) -> None:
    _append_at(store, NOW - 3 * 365 * DAY, 3)
    with store.write() as uow:
        uow.session.execute(text("UPDATE audit_events SET actor = 'x' WHERE id = 2"))
    report = purge(store, NOW, RULES)
    assert report.audit_events == 0 and not report.audit_chain_intact
    assert "audit chain is broken" in report.text()
    assert count(store, AuditEvent.id) == 4  # 3 kept, plus the purge event


# --- nothing of a purged patron is left on any page ----------------------------------------------

PAGE = 4096  # SQLCipher 4 defaults
RESERVE = 80  # 16-byte IV + 64-byte HMAC-SHA512 at the end of each page
SALT = 16  # page 1 starts with the salt instead of "SQLite format 3\0"
WAL_HEADER, FRAME_HEADER = 32, 24


def decrypt_page(key: bytes, page: bytes, page_number: int) -> bytes:
    """Decrypt one SQLCipher page with the raw key (no KDF is applied to an x'..' key)."""
    start = SALT if page_number == 1 else 0
    iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start : PAGE - RESERVE]) + decryptor.finalize()


def decrypted_pages(key: bytes, database: Path) -> list[bytes]:
    """Every page of the database file and every frame of its WAL, live, free or stale."""
    pages = []
    data = database.read_bytes()
    assert len(data) % PAGE == 0
    for n in range(len(data) // PAGE):
        pages.append(decrypt_page(key, data[n * PAGE : (n + 1) * PAGE], n + 1))
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        log = wal.read_bytes()
        offset = WAL_HEADER
        while offset + FRAME_HEADER + PAGE <= len(log):
            number = int.from_bytes(log[offset : offset + 4], "big")
            frame = log[offset + FRAME_HEADER : offset + FRAME_HEADER + PAGE]
            pages.append(decrypt_page(key, frame, number))
            offset += FRAME_HEADER + PAGE
    return pages


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_the_decryptor_reads_a_known_page(store: Store, store_options: StoreOptions) -> None:
    store.close()
    key = load_key(store_options.key_file)
    raw = store_options.database.read_bytes()
    assert b"SQLite format 3" not in raw
    first = decrypt_page(key, raw[:PAGE], 1)
    # The b-tree header after the (replaced) magic: page size 4096, reserved bytes 80.
    assert int.from_bytes(first[0:2], "big") == PAGE
    assert first[4] == RESERVE
    assert first[84] in (0x05, 0x0D)  # page 1 holds the sqlite_master b-tree


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_a_purged_patron_is_on_no_page_of_the_file_or_its_wal(
    store: Store, store_options: StoreOptions
) -> None:
    gone = "Zephyrine-Gone-Marker-4471"
    kept = "Kept-Control-Marker-9023"
    add_record_with_items(store, "Title", ["I1"])
    pid = add_expired(store, "PURGED-BARCODE-77", given=gone, family=gone + "-family")
    add_patron(store, "KEPT-BARCODE-12", given=kept)
    with store.write() as uow:  # some history and notices, written and rewritten
        uow.session.add(Consent(patron_id=pid, kind=CHECKOUT_HISTORY, granted_at=NOW, channel="x"))
        for n in range(30):
            uow.session.add(
                ReadingHistory(patron_id=pid, title=f"{gone}-t{n}", author=gone, returned_on=NOW)
            )
    set_patron(store, pid, note=f"{gone} note", note_expires_on=D(2030, 1, 1))
    key = load_key(store_options.key_file)
    before = b"".join(decrypted_pages(key, store_options.database))
    assert gone.encode() in before and kept.encode() in before  # the decryptor finds plaintext

    report = purge(store, NOW, RULES)
    assert report.patrons == 1 and report.wal_truncated

    for moment in ("open", "closed"):
        pages = decrypted_pages(key, store_options.database)
        joined = b"".join(pages)
        assert kept.encode() in joined, moment  # still readable: the check can see data
        for secret in (gone, "PURGED-BARCODE-77"):
            assert secret.encode() not in joined, (moment, secret)
        store.close()
    leftovers = [p for p in os.listdir(store_options.database.parent) if "journal" in p]
    assert leftovers == []


# --- the daily job: purge, then old backups ------------------------------------------------------


def test_run_retention_deletes_backups_older_than_the_shortest_period(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old, recent = folder / "old.db", folder / "recent.db"
    for path, age in ((old, 31), (recent, 29)):
        path.write_bytes(b"x")
        stamp = (NOW - age * DAY).timestamp()
        os.utime(path, (stamp, stamp))
    add_expired(store, "R1")
    report = run_retention(store, NOW, RULES, backup_dir=folder)
    assert report.patrons == 1 and report.backups_deleted == 1
    assert sorted(p.name for p in folder.iterdir()) == ["recent.db"]
    assert "old backups: 1" in report.text()


@pytest.mark.sqlcipher_only  # the SQLCipher file itself
def test_run_retention_defaults_to_backups_beside_the_database(
    store: Store, store_options: StoreOptions
) -> None:
    folder = store_options.database.parent / "backups"
    folder.mkdir()
    stale = folder / "stale.db"
    stale.write_bytes(b"x")
    stamp = (NOW - 400 * DAY).timestamp()
    os.utime(stale, (stamp, stamp))
    assert run_retention(store, NOW, RULES).backups_deleted == 1
    assert not stale.exists()
