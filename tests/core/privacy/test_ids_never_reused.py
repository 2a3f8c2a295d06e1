"""Ids that pseudonyms, the audit log and the ledgers refer to are never given out twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.audit import verify_chain
from core.model import AuditEvent, Patron
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.policy.retention import RetentionRules
from core.privacy import legal
from core.privacy.export import export_patron
from core.privacy.purge import purge
from core.security.keys import generate_key_file
from core.services import patrons
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.store.engine import create_store_engine
from core.store.migrate import upgrade
from core.store.uow import Store
from tests.conftest import NOW, add_patron

OFFICER = Actor(ActorKind.STAFF, "pia", Role.PRIVACY_OFFICER)
NEVER_REUSED = (
    "patrons",
    "consents",
    "reading_history",
    "loans",
    "holds",
    "sent_notices",
    "legal_requests",
)


def test_a_new_patron_never_receives_a_purged_patrons_audit_trail(store: Store) -> None:
    add_patron(store, "KEPT")
    gone = add_patron(store, "GONE", expires_on=dt.date(2020, 1, 1))
    for _ in range(3):
        with store.write() as uow:
            patrons.find_patron(uow, local_admin(), NOW, "GONE")
    gone_subject = store.env.pseudonyms.patron(gone)
    assert purge(store, NOW, RetentionRules()).patrons == 1
    with store.read() as uow:  # the events stay (audit retention), under the pseudonym
        kept = uow.session.scalars(select(AuditEvent.id).where(AuditEvent.subject == gone_subject))
        assert len(kept.all()) == 3

    newcomer = add_patron(store, "NEW")
    assert newcomer > gone
    with store.write() as uow:
        export = export_patron(uow, OFFICER, NOW, "NEW")
    audit = next(t for t in export.tables if t.name == "audit_events")
    assert export.subject != gone_subject
    assert all(gone_subject not in row for row in audit.rows)
    assert audit.rows == ()  # nothing happened to the newcomer before the export


def test_a_deleted_legal_request_number_is_not_given_again(store: Store) -> None:
    def record() -> int:
        with store.write() as uow:
            view = legal.record_request(
                uow,
                OFFICER,
                NOW,
                agency="County Sheriff",
                instrument="subpoena",
                court="County",
                case_number="CR-1",
                patrons=["X"],
                classes=["profile"],
            )
            return view.id

    first = record()
    with store.write() as uow:
        legal.review_request(uow, OFFICER, NOW, first, "reject", "not valid")
        legal.close_request(uow, OFFICER, NOW, first)
        legal.delete_request(uow, OFFICER, NOW, first)
    assert record() == first + 1  # the audit log names the deleted one by its number


def test_every_referenced_table_is_autoincrement(store: Store) -> None:
    with store.engine.connect() as conn:
        schema = dict(conn.execute(text("SELECT name, sql FROM sqlite_master")).all())
    for table in NEVER_REUSED:
        assert "AUTOINCREMENT" in schema[table], table


def test_the_migration_keeps_every_row_and_starts_above_every_id_once_used(
    tmp_path: Path,
) -> None:
    key = generate_key_file(tmp_path / "k")
    engine = create_store_engine(tmp_path / "old.db", key)
    upgrade(engine, "0007")
    with engine.begin() as conn:
        run = conn.exec_driver_sql
        run(
            "INSERT INTO instance (id, secret, created_at) VALUES (1, ?, '2026-01-01 00:00:00')",
            (secrets.token_hex(32),),
        )
        for n in (1, 2):
            run(
                "INSERT INTO patrons (id, barcode, given_name, family_name, category, home_branch,"
                " expires_on, pin_failed_attempts, is_minor, card_lost, created_on,"
                " last_activity_on) VALUES (?, ?, 'A', 'B', 'adult', 'main', '2030-01-01', 0, 0,"
                " 0, '2026-01-01', '2026-01-01')",
                (n, f"P{n}"),
            )
        run(
            "INSERT INTO consents (patron_id, kind, granted_at, channel)"
            " VALUES (2, ?, '2026-01-01 00:00:00', 'desk')",
            (CHECKOUT_HISTORY,),
        )
        # Patrons 3 and 4 were purged: two ledger entries; the next id must be above 4.
        for n in (3, 4):
            run("INSERT INTO purge_ledger (digest, purged_on) VALUES (?, '2026-02-01')", (str(n),))
        for event_id, action, detail in ((1, "t", "{}"), (2, "legal.delete", '{"request":7}')):
            run(
                "INSERT INTO audit_events (id, at, actor, action, subject, detail, prev_hash,"
                " hash) VALUES (?, ?, 'admin:x', ?, NULL, ?, '', '')",
                (event_id, NOW.replace(tzinfo=None).isoformat(sep=" "), action, detail),
            )
    # Linked as the schema before keyed links did it: plain SHA-256.
    with engine.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, at, actor, action, subject, detail FROM audit_events ORDER BY id"
        ).all()
        prev = "0" * 64
        for row in rows:
            at = dt.datetime.fromisoformat(row[1]).replace(tzinfo=dt.UTC).isoformat()
            canonical = json.dumps(
                [prev, row[0], at, row[2], row[3], row[4], row[5]],
                ensure_ascii=True,
                separators=(",", ":"),
            )
            digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
            conn.exec_driver_sql(
                "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?",
                (prev, digest, row[0]),
            )
            prev = digest

    upgrade(engine)

    with engine.begin() as conn:
        run = conn.exec_driver_sql
        assert run("SELECT count(*) FROM consents").scalar() == 1  # no cascade from the rebuild
        assert run("SELECT count(*) FROM patrons").scalar() == 2
        seq = dict(run("SELECT name, seq FROM sqlite_sequence").all())
        assert seq["patrons"] == 2 + 2 and seq["legal_requests"] == 7
        run(
            "INSERT INTO patrons (barcode, given_name, family_name, category, home_branch,"
            " expires_on, pin_failed_attempts, is_minor, card_lost, created_on, last_activity_on)"
            " VALUES ('P5', 'A', 'B', 'adult', 'main', '2030-01-01', 0, 0, 0, '2026-01-01',"
            " '2026-01-01')"
        )
        assert run("SELECT id FROM patrons WHERE barcode = 'P5'").scalar() == 5
    with Session(engine) as session:
        report = verify_chain(session)  # an intact old chain is re-linked with the keyed HMAC
        assert report.first_broken is None and report.events == 2
        assert session.scalar(select(Patron.id).where(Patron.barcode == "P2")) == 2
    engine.dispose()


# The SQLCipher file, its WAL and its key (shared stores: tests/store_pg/).
pytestmark = pytest.mark.sqlcipher_only
