"""Item imports from CSV against a real SQLCipher store: all or nothing, every error by line."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection

from core.errors import ImportRowError, PermissionDenied
from core.imports import (
    MAX_ERRORS,
    ImportFailed,
    ImportReport,
    ItemRow,
    import_items,
    read_items_csv,
)
from core.model import AuditEvent, Item, Patron, Record
from core.policy.rules import CirculationRules
from core.services.actors import local_admin, terminal_actor
from core.store.uow import Store, UnitOfWork
from tests.conftest import add_record_with_items

DATA = Path(__file__).parent.parent / "data"
ITEM_HEADER = "barcode,title,author,isbn,call_number,media_type,location"
ADMIN = local_admin()


def write_csv(path: Path, header: str, *lines: str) -> Path:
    path.write_text("\n".join((header, *lines)) + "\n", encoding="utf-8")
    return path


def table_counts(store: Store) -> dict[str, int]:
    with store.read() as uow:
        return {
            model.__tablename__: uow.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Record, Item, Patron, AuditEvent)
        }


def with_rules(uow: UnitOfWork, rules: CirculationRules) -> UnitOfWork:
    """The same transaction seen with other configured rules (branches, media types, calendar)."""
    return UnitOfWork(uow.session, replace(uow.env, rules=rules))


def failed_import(store: Store, now: dt.datetime, path: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught, store.write() as uow:
        import_items(uow, ADMIN, now, read_items_csv(path))
    return caught.value


def test_sample_csv_creates_items_and_shared_records(store: Store, now: dt.datetime) -> None:
    seen: list[int] = []
    with store.write() as uow:
        report = import_items(
            uow, ADMIN, now, read_items_csv(DATA / "items.csv"), progress=seen.append
        )
    # Two Hobbits share a record by ISBN (hyphens ignored), two Local Walks by title and author.
    assert report == ImportReport(rows=6, records_created=4, items_created=6)
    assert seen == [6]
    with store.read() as uow:
        items = {item.barcode: item for item in uow.session.scalars(select(Item))}
        hobbit = items["31000000000001"]
        assert hobbit.record_id == items["31000000000002"].record_id
        assert hobbit.record.isbn == "9780261102217"
        assert hobbit.record.author == "Tolkien, J. R. R."
        assert (hobbit.call_number, hobbit.media_type, hobbit.location) == (
            "823.912 TOL",
            "book",
            "stacks",
        )
        assert hobbit.home_branch == "main"
        assert hobbit.status == "available"
        assert items["31000000000003"].record_id == items["31000000000004"].record_id
        assert items["31000000000003"].media_type == "book"  # "Book" names the configured type
        assert items["31000000000005"].record.title == "Nature Monthly, March"
        events = list(uow.session.scalars(select(AuditEvent)))
    assert [e.action for e in events] == ["import.items"]
    assert json.loads(events[0].detail) == {"rows": 6, "records_created": 4, "items_created": 6}
    assert events[0].subject is None


def test_branch_column_and_empty_branch(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "items.csv",
        ITEM_HEADER + ",branch",
        "B1,Title One,,,,book,,east",
        "B2,Title Two,,,,book,,",
        "B3,Title Three,,,,book,,EAST",
    )
    rules = CirculationRules(branches=("central", "east"))
    with store.write() as uow:
        import_items(with_rules(uow, rules), ADMIN, now, read_items_csv(path))
    with store.read() as uow:
        query = select(Item.barcode, Item.home_branch)
        branches = {barcode: branch for barcode, branch in uow.session.execute(query)}
    assert branches == {"B1": "east", "B2": "central", "B3": "east"}


def test_bad_row_in_the_middle_writes_nothing(
    store: Store, now: dt.datetime, tmp_path: Path
) -> None:
    good = [f"G{n},Title {n},,,,book,stacks" for n in range(1, 40)]
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, *good[:20], "BAD1,,,,,book,", *good[20:])
    statements: list[str] = []

    def record_statement(conn: Connection, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql)

    event.listen(store.engine, "before_cursor_execute", record_statement)
    failure = failed_import(store, now, path)
    event.remove(store.engine, "before_cursor_execute", record_statement)
    assert [(e.line, e.reason) for e in failure.errors] == [(22, "title is empty")]
    assert "line 22: title is empty" in str(failure)
    # Validation ran to the end before anything was written: not one INSERT was even sent.
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("INSERT")]
    assert table_counts(store) == {"records": 0, "items": 0, "patrons": 0, "audit_events": 0}


def test_every_error_is_reported_by_line(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "items.csv",
        ITEM_HEADER,
        "OK1,Fine,,,,book,",
        ",No Barcode,,,,book,",
        "OK2,Wrong Type,,,,spaceship,",
        "OK3,,,,,,",
        "OK4,Long Isbn,," + "9" * 21 + ",,book,",
        " OK5,Padded in the file,,,,book,",
        "OK6,Wrong Check Digit,,978-0-261-10221-8,,book,",
        "OK7,Ten Digits,,0261102215,,book,",
    )
    failure = failed_import(store, now, path)
    assert [(e.line, e.reason) for e in failure.errors] == [
        (3, "barcode is empty"),
        (
            4,
            "media type 'spaceship' is not configured (configured: "
            + ", ".join(CirculationRules().media_types)
            + ")",
        ),
        (5, "title is empty"),
        (5, "media type is empty"),
        (6, "isbn is longer than 20 characters"),
        (8, "isbn 9780261102218 has a wrong ISBN-13 check digit"),
        (9, "isbn 0261102215 has a wrong ISBN-10 check digit"),
    ]
    # Fields are trimmed, so the padded barcode is accepted and only five errors remain.
    assert not failure.more
    assert table_counts(store)["items"] == 0


def test_barcode_rule_applies(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "items.csv",
        ITEM_HEADER,
        "31234000000008,Good Check Digit,,,,book,",
        "31234000000009,Bad Check Digit,,,,book,",
    )
    rules = replace(CirculationRules(), barcodes=replace(CirculationRules().barcodes, luhn=True))
    with pytest.raises(ImportFailed) as caught, store.write() as uow:
        import_items(with_rules(uow, rules), ADMIN, now, read_items_csv(path))
    assert [(e.line, e.reason) for e in caught.value.errors] == [
        (3, "barcode does not satisfy the barcode rule")
    ]


def test_duplicates_in_the_file_and_in_the_store(
    store: Store, now: dt.datetime, tmp_path: Path
) -> None:
    add_record_with_items(store, "Already Here", ["OLD1"])
    path = write_csv(
        tmp_path / "items.csv",
        ITEM_HEADER,
        "NEW1,One,,,,book,",
        "OLD1,Two,,,,book,",
        "NEW2,Three,,,,book,",
        "NEW1,Four,,,,book,",
    )
    failure = failed_import(store, now, path)
    assert [str(e) for e in failure.errors] == [
        "line 3: barcode is already in the store",
        "line 5: duplicate barcode (also on line 2)",
    ]
    assert table_counts(store)["items"] == 1


def test_existing_record_with_the_isbn_gets_the_new_copies(
    store: Store, now: dt.datetime, tmp_path: Path
) -> None:
    with store.write() as uow:
        uow.session.add(Record(title="Emma", author="Austen, Jane", isbn="9780141439587"))
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, "E1,Emma,,978-0-14-143958-7,,book,")
    with store.write() as uow:
        report = import_items(uow, ADMIN, now, read_items_csv(path))
    assert (report.records_created, report.items_created) == (0, 1)
    with store.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Record)) == 1


def test_wrong_header_is_line_one(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "items.csv", "barcode,title,author", "X1,T,A")
    with pytest.raises(ImportRowError) as caught:
        list(read_items_csv(path))
    assert caught.value.line == 1
    assert ITEM_HEADER in caught.value.reason
    failure = failed_import(store, now, path)
    assert [e.line for e in failure.errors] == [1]
    assert table_counts(store)["items"] == 0


def test_header_with_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{ITEM_HEADER}\r\nX1,T,,,,book,\r\n".encode())
    assert list(read_items_csv(path)) == [(2, ItemRow("X1", "T", "", "", "", "book", ""))]


def test_line_numbers_count_physical_lines(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "items.csv", ITEM_HEADER, 'X1,"Two\nLines",,,,book,', "", "X2,After,,,,book,"
    )
    assert [line for line, _ in read_items_csv(path)] == [2, 5]


def test_ragged_row_stops_with_its_line(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "items.csv", ITEM_HEADER, ",,,,,book,", "X1,Shifted, by a comma,,,,book,"
    )
    failure = failed_import(store, now, path)
    assert [str(e) for e in failure.errors] == [
        "line 2: barcode is empty",
        "line 2: title is empty",
        "line 3: expected 7 fields, found 8",
    ]


def test_invalid_utf8_is_reported(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(f"{ITEM_HEADER}\nX1,Caf\xe9,,,,book,\n".encode("latin-1"))
    failure = failed_import(store, now, path)
    assert "not valid UTF-8" in str(failure)


def test_errors_stop_at_the_limit(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, *[f"X{n},,,,,book," for n in range(80)])
    failure = failed_import(store, now, path)
    assert len(failure.errors) == MAX_ERRORS
    assert failure.more
    assert f"stopped after {MAX_ERRORS} errors" in str(failure)


def test_import_needs_the_import_permission(store: Store, now: dt.datetime) -> None:
    with pytest.raises(PermissionDenied), store.write() as uow:
        import_items(uow, terminal_actor("kiosk1", "main"), now, read_items_csv(DATA / "items.csv"))
    assert table_counts(store)["items"] == 0


def test_large_file_goes_in_batches(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    def rows() -> Iterator[tuple[int, ItemRow]]:
        for n in range(12_000):
            yield n + 2, ItemRow(f"L{n}", f"Title {n % 3000}", "", "", "", "book", "")

    seen: list[int] = []
    with store.write() as uow:
        report = import_items(uow, ADMIN, now, rows(), progress=seen.append)
    assert report == ImportReport(rows=12_000, records_created=3000, items_created=12_000)
    assert seen == [5000, 10_000, 12_000]
    with store.read() as uow:
        ids = list(uow.session.scalars(select(Item.id).order_by(Item.id)))
    assert ids == list(range(1, 12_001))
