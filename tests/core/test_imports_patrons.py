"""Patron imports: all or nothing, PINs only as argon2id hashes, no personal data in errors."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import String, select, text

from core.imports import (
    ImportFailed,
    ImportReport,
    PatronRow,
    import_patrons,
    read_patrons_csv,
)
from core.model import AuditEvent, Base, Patron
from core.policy.rules import Calendar, CirculationRules
from core.policy.secret_rules import PinRule
from core.services.actors import local_admin
from core.store.open import StoreOptions
from core.store.uow import Store
from tests.conftest import add_patron
from tests.core.test_imports import table_counts, with_rules, write_csv

DATA = Path(__file__).parent.parent / "data"
HEADER = "barcode,given_name,family_name,category,expires_on,pin,email,phone"
ADMIN = local_admin()
# Distinctive values to look for in every byte of the store afterwards (PRIV-09).
PIN_A = "Kq7-Zebra-Pin"
PIN_B = "60417283"


def failed(store: Store, now: dt.datetime, path: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught, store.write() as uow:
        import_patrons(uow, ADMIN, now, read_patrons_csv(path))
    return caught.value


def test_sample_csv_creates_patrons(store: Store, now: dt.datetime) -> None:
    with store.write() as uow:
        report = import_patrons(uow, ADMIN, now, read_patrons_csv(DATA / "patrons.csv"))
    assert report == ImportReport(rows=3, patrons_created=3)
    with store.read() as uow:
        patrons = {p.barcode: p for p in uow.session.scalars(select(Patron))}
        ada = patrons["21000000000001"]
        assert (ada.given_name, ada.family_name, ada.category) == ("Ada", "Lovelace", "adult")
        assert ada.expires_on == dt.date(2028, 6, 30)
        assert (ada.email, ada.phone) == ("ada@example.org", None)
        assert ada.home_branch == "main"
        assert ada.created_on == ada.last_activity_on == now.date()
        assert store.env.hasher.verify(ada.pin_hash, "4821").ok
        babbage = patrons["21000000000002"]
        assert (babbage.pin_hash, babbage.email) == (None, None)
        assert babbage.phone == "+44 20 7946 0000"
        assert store.env.hasher.verify(patrons["21000000000003"].pin_hash, "Starling-77").ok
        events = list(uow.session.scalars(select(AuditEvent)))
    assert [e.action for e in events] == ["import.patrons"]
    assert json.loads(events[0].detail) == {"rows": 3, "patrons_created": 3, "pins_set": 2}


def test_pins_exist_only_as_argon2id_hashes(
    store: Store, store_options: StoreOptions, now: dt.datetime, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "patrons.csv",
        HEADER,
        f"P1,Grace,Hopper,adult,2030-01-01,{PIN_A},,",
        f"P2,Alan,Turing,adult,2030-01-01,{PIN_B},,",
    )
    with store.write() as uow:
        import_patrons(uow, ADMIN, now, read_patrons_csv(path))
    with store.read() as uow:
        hashes = list(uow.session.scalars(select(Patron.pin_hash)))
        assert len(hashes) == 2
        assert all(h is not None and h.startswith("$argon2id$") for h in hashes)
        # PRIV-09: decrypted, no text column of any table holds either PIN.
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String):
                    sql = text(f'SELECT "{column.name}" FROM "{table.name}"')
                    for value in uow.session.scalars(sql):
                        assert PIN_A not in str(value) and PIN_B not in str(value)
    store.close()
    files = list(store_options.database.parent.glob(store_options.database.name + "*"))
    assert store_options.database in files
    for file in files:
        data = file.read_bytes()
        assert PIN_A.encode() not in data and PIN_B.encode() not in data


def test_errors_never_echo_personal_data(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    long_pin = "Secret-PIN-" * 6  # 66 characters
    long_name = "Bartholomew" * 10
    path = write_csv(
        tmp_path / "patrons.csv",
        HEADER,
        "P1,Ada,Lovelace,adult,2030-01-01,,,",
        f"P2,Grace,Hopper,adult,2030-01-01,{long_pin},,",
        "P3,Alan,Turing,adult,2030-01-01,987,,",
        f"P4,{long_name},Turing,adult,2030-01-01,,,",
        "P5,Mary,Shelley,adult,2030-01-01,tab\there,,",
    )
    failure = failed(store, now, path)
    assert [str(e) for e in failure.errors] == [
        "line 3: pin must be 4 to 64 characters long",
        "line 4: pin must be 4 to 64 characters long",
        "line 5: given_name is longer than 100 characters",
        "line 6: pin must not hold control characters, nor start or end with a space",
    ]
    message = str(failure)
    for secret in (long_pin, "Secret-PIN", "987", "Bartholomew", "tab\there", "Hopper", "Turing"):
        assert secret not in message
    assert "Secret-PIN" not in repr(next(iter(read_patrons_csv(path)))[1])
    assert table_counts(store) == {"records": 0, "items": 0, "patrons": 0, "audit_events": 0}


def test_every_error_is_reported(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    add_patron(store, "OLD1")
    path = write_csv(
        tmp_path / "patrons.csv",
        HEADER,
        "N1,Ada,Lovelace,adult,2030-01-01,,,",
        ",,Nobody,visitor,01/02/2030,,no-at-sign,",
        "OLD1,Grace,Hopper,adult,2030-02-30,,,",
        "N1,Alan,Turing,child,2030-01-01,,,",
        "N2,Mary,Shelley,adult,2030-01-01,,m@example.org," + "1" * 33,
    )
    failure = failed(store, now, path)
    assert [str(e) for e in failure.errors] == [
        "line 3: barcode is empty",
        "line 3: given_name is empty",
        "line 3: category must be one of: adult, child",
        "line 3: expires_on must be a date written YYYY-MM-DD",
        "line 3: email must contain @",
        "line 4: expires_on must be a date written YYYY-MM-DD",
        "line 4: barcode is already in the store",
        "line 5: duplicate barcode (also on line 2)",
        "line 6: phone is longer than 32 characters",
    ]
    assert table_counts(store)["patrons"] == 1


def test_no_pin_is_hashed_unless_the_file_is_valid(
    store: Store, now: dt.datetime, tmp_path: Path
) -> None:
    calls: list[str] = []

    def counting_hash(pin: str) -> str:
        calls.append(pin)
        return store.env.hasher.hash(pin)

    path = write_csv(
        tmp_path / "patrons.csv",
        HEADER,
        "P1,Ada,Lovelace,adult,2030-01-01,1234,,",
        "P2,Grace,Hopper,nobody,2030-01-01,5678,,",
    )
    with pytest.raises(ImportFailed), store.write() as uow:
        import_patrons(uow, ADMIN, now, read_patrons_csv(path), hash_pin=counting_hash)
    assert calls == []


def test_pins_are_hashed_in_worker_threads(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    threads: set[str] = set()

    def recording_hash(pin: str) -> str:
        threads.add(threading.current_thread().name)
        return store.env.hasher.hash(pin)

    lines = [f"P{n},Given,Family,adult,2030-01-01,pin-{n:04d},," for n in range(1200)]
    path = write_csv(tmp_path / "patrons.csv", HEADER, *lines)
    seen: list[int] = []
    with store.write() as uow:
        report = import_patrons(
            uow, ADMIN, now, read_patrons_csv(path), hash_pin=recording_hash, progress=seen.append
        )
    assert report.patrons_created == 1200
    assert seen == [500, 1000, 1200]
    assert threading.main_thread().name not in threads
    with store.read() as uow:
        stored = uow.session.scalar(select(Patron.pin_hash).where(Patron.barcode == "P1199"))
    assert store.env.hasher.verify(stored, "pin-1199").ok


def test_dates_are_the_library_local_day(store: Store, tmp_path: Path) -> None:
    # 11:30 UTC on 4 March is already 5 March in Auckland (UTC+13 in March).
    late = dt.datetime(2026, 3, 4, 11, 30, tzinfo=dt.UTC)
    rules = CirculationRules(calendar=Calendar(timezone="Pacific/Auckland"), branches=("north",))
    path = write_csv(tmp_path / "patrons.csv", HEADER, "P1,Ada,Lovelace,adult,2030-01-01,,,")
    with store.write() as uow:
        import_patrons(with_rules(uow, rules), ADMIN, late, read_patrons_csv(path))
    with store.read() as uow:
        patron = uow.session.scalars(select(Patron)).one()
    assert patron.created_on == patron.last_activity_on == dt.date(2026, 3, 5)
    assert patron.home_branch == "north"


def test_wrong_header(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "patrons.csv", "barcode,name,pin", "P1,Ada,1234")
    failure = failed(store, now, path)
    assert [e.line for e in failure.errors] == [1]
    assert HEADER in str(failure)


def test_pin_is_kept_exactly_as_written(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "patrons.csv", HEADER, " P1 , Ada , Lovelace ,adult,2030-01-01, 12 34 ,,"
    )
    [(line, row)] = list(read_patrons_csv(path))
    assert line == 2
    assert row == PatronRow("P1", "Ada", "Lovelace", "adult", "2030-01-01", " 12 34 ", "", "")


def test_obvious_pins_are_refused_and_the_rule_is_stored(
    store: Store, now: dt.datetime, tmp_path: Path
) -> None:
    """PRIV-09: the configured PIN rule applies to imported PINs; each PIN keeps its rule."""
    path = write_csv(
        tmp_path / "patrons.csv",
        HEADER,
        "P1,Ada,Lovelace,adult,2030-01-01,1111,,",
        "P2,Grace,Hopper,adult,2030-01-01,1234,,",
        "P3,Alan,Turing,adult,2030-01-01,9876,,",
        "P4,Mary,Shelley,adult,2030-01-01,48a1,,",
    )
    digits = PinRule(digits_only=True, max_length=8)
    with store.write() as uow, pytest.raises(ImportFailed) as raised:
        import_patrons(uow, ADMIN, now, read_patrons_csv(path), pin_rule=digits)
    assert [str(e) for e in raised.value.errors] == [
        "line 2: pin is too easy to guess (one repeated sign, or a run such as 1234 or 9876)",
        "line 3: pin is too easy to guess (one repeated sign, or a run such as 1234 or 9876)",
        "line 4: pin is too easy to guess (one repeated sign, or a run such as 1234 or 9876)",
        "line 5: pin must be digits only",
    ]
    assert "48a1" not in str(raised.value)
    good = write_csv(tmp_path / "good.csv", HEADER, "P1,Ada,Lovelace,adult,2030-01-01,4821,,")
    with store.write() as uow:
        import_patrons(uow, ADMIN, now, read_patrons_csv(good), pin_rule=digits)
    with store.read() as uow:
        assert uow.session.scalar(select(Patron.pin_rule)) == digits.label == "digits4-8-obvious"
