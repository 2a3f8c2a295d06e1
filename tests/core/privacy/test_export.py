"""Patron export from the schema annotations: complete, and never a secret (PRIV-04, PRIV-09)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from core.errors import PermissionDenied
from core.model import AuditEvent, Base, Fee, FeePayment, Patron, ReadingHistory
from core.policy.consent_kinds import CHECKOUT_HISTORY
from core.privacy.consents import grant_consent
from core.privacy.export import (
    export_as_json,
    export_as_text,
    export_patron,
    is_secret_column,
    patron_tables,
)
from core.services import patrons
from core.services.actors import Actor, ActorKind, Role, local_admin
from core.store.uow import Store
from tests.conftest import NOW, add_patron, add_record_with_items

OFFICER = Actor(ActorKind.STAFF, "pia", Role.PRIVACY_OFFICER)
PIN = "zyx-9731-pin"  # letters outside hex, so no digest can contain it by chance


@pytest.fixture
def lib(store: Store) -> Store:
    record = add_record_with_items(store, "Held Title", ["I1"])
    ada = add_patron(store, "P1", pin=PIN)
    add_patron(store, "P2", given="Grace", family="Hopper", pin="9999")
    with store.write() as uow:
        grant_consent(uow, local_admin(), NOW, "P1", CHECKOUT_HISTORY, "desk")
        uow.session.add(
            ReadingHistory(
                patron_id=ada,
                record_id=record,
                title="Remembered Title",
                author="Someone",
                returned_on=NOW.date(),
            )
        )
        fee = Fee(patron_id=ada, kind="lost", amount=900, balance=400, created_at=NOW)
        uow.session.add(fee)
        uow.session.flush()
        uow.session.add(FeePayment(fee_id=fee.id, amount=500, method="cash", paid_at=NOW))
        patrons.find_patron(uow, local_admin(), NOW, "P2")  # an event about someone else
    return store


def _export(store: Store, barcode: str = "P1") -> str:
    with store.write() as uow:
        return export_as_json(export_patron(uow, OFFICER, NOW, barcode))


def test_every_table_holding_patron_rows_is_exported(lib: Store) -> None:
    with lib.write() as uow:
        result = export_patron(uow, OFFICER, NOW, "P1")
    names = {t.name for t in result.tables}
    with_patron_id = {t.name for t in Base.metadata.sorted_tables if "patron_id" in t.c}
    assert with_patron_id <= names
    assert {"patrons", "audit_events", "fee_payments"} <= names  # hanging off fees
    assert {t.name for t in patron_tables()} >= with_patron_id
    patron = result.table("patrons")
    assert patron is not None and len(patron.rows) == 1
    history = result.table("reading_history")
    assert history is not None and "Remembered Title" in history.rows[0]
    payments = result.table("fee_payments")
    assert payments is not None and len(payments.rows) == 1


def test_columns_carry_their_annotations(lib: Store) -> None:
    document = json.loads(_export(lib))
    patrons_table = next(t for t in document["tables"] if t["table"] == "patrons")
    barcode = next(c for c in patrons_table["columns"] if c["name"] == "barcode")
    assert barcode["pii"] == "direct" and barcode["purpose"] and barcode["retention"]
    assert patrons_table["rows"][0]["barcode"] == "P1"
    assert patrons_table["rows"][0]["family_name"] == "Lovelace"


def test_no_pin_and_no_hash_anywhere(lib: Store) -> None:
    with lib.read() as uow:
        pin_hash = uow.session.scalar(select(Patron.pin_hash).where(Patron.barcode == "P1"))
    assert pin_hash
    with lib.write() as uow:
        result = export_patron(uow, OFFICER, NOW, "P1")
    for rendered in (export_as_json(result), export_as_text(result)):
        assert PIN not in rendered
        assert pin_hash not in rendered
        assert "$argon2" not in rendered
        assert "pin_hash" not in rendered
    exported_columns = {c.name for t in result.tables for c in t.columns}
    assert not any(is_secret_column(name) for name in exported_columns)


def test_only_this_patrons_data_and_events(lib: Store) -> None:
    with lib.write() as uow:
        before = export_patron(uow, OFFICER, NOW, "P1")
        own = uow.env.pseudonyms.patron(patrons.require_patron(uow, "P1"))
    rendered = export_as_json(before)
    assert "Hopper" not in rendered and "P2" not in rendered
    audit = before.table("audit_events")
    assert audit is not None
    subject = next(i for i, c in enumerate(audit.columns) if c.name == "subject")
    assert audit.rows and {row[subject] for row in audit.rows} == {own}


def test_export_is_audited_and_needs_the_privacy_officer(lib: Store) -> None:
    for actor in (local_admin(), Actor(ActorKind.STAFF, "cora", Role.CIRCULATION)):
        with lib.write() as uow, pytest.raises(PermissionDenied):
            export_patron(uow, actor, NOW, "P1")
    _export(lib)
    with lib.read() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patron.export")
        ).one()
    assert event.actor == "staff:pia" and event.subject is not None
    assert "P1" not in event.detail


def test_text_form_shows_why_and_how_long(lib: Store) -> None:
    with lib.write() as uow:
        text = export_as_text(export_patron(uow, OFFICER, NOW + dt.timedelta(hours=1), "P1"))
    assert "== patrons (1 rows) ==" in text
    line = next(line for line in text.splitlines() if line.strip().startswith("family_name"))
    assert "Lovelace" in line and "[direct; tell patrons apart at the desk; kept:" in line


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("pin_hash", True),
        ("password_hash", True),
        ("secret", True),
        ("hash", True),
        ("barcode", False),
        ("hash_len", False),
    ],
)
def test_secret_columns(name: str, secret: bool) -> None:
    assert is_secret_column(name) is secret
