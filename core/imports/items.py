"""All-or-nothing import of items and their bibliographic records from CSV, MARC 21 or MARCXML."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from core.audit import append_event
from core.imports._common import (
    BATCH_ROWS,
    LOOKUP_CHUNK,
    ImportReport,
    chunked,
    column_length,
    read_csv,
    resolve_name,
    validate_rows,
)
from core.imports._marc import (
    author_of,
    holdings_value,
    isbn_of,
    marc_records,
    media_type_for,
    title_of,
)
from core.model import Item, ItemStatus, Record
from core.policy.barcodes import barcode_refusal
from core.policy.isbn import compact_isbn, isbn_problem
from core.policy.rules import MEDIA_TYPES, CirculationRules
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

ITEM_COLUMNS = ("barcode", "title", "author", "isbn", "call_number", "media_type", "location")
BRANCH_COLUMN = "branch"

_TITLE_MAX = column_length(Record.title)
_AUTHOR_MAX = column_length(Record.author)
_LIMITS = {
    "isbn": column_length(Record.isbn),
    "call_number": column_length(Item.call_number),
    "location": column_length(Item.location),
}

# Core INSERTs on the tables, on the session's connection, skip the ORM's per-row bookkeeping
# (about twice as fast for 100,000 rows); Python-side column defaults still apply.
_RECORDS = cast(Table, Record.__table__)
_ITEMS = cast(Table, Item.__table__)

RecordKey = tuple[str, ...]


class _CheckedItem(NamedTuple):
    """A valid row with normalised values (a tuple: built 100,000 times per large file)."""

    barcode: str
    title: str
    author: str
    isbn: str
    call_number: str
    media_type: str
    location: str
    branch: str


@dataclass(frozen=True)
class ItemRow:
    """One copy to import; an empty `branch` means the first configured branch."""

    barcode: str
    title: str
    author: str
    isbn: str
    call_number: str
    media_type: str
    location: str
    branch: str = ""


@dataclass(frozen=True)
class MarcHoldings:
    """Where a MARC file keeps its copies: Koha's 952 by default; 949 exports differ only here."""

    tag: str = "952"
    barcode: str = "p"
    call_number: str = "o"
    location: str = "c"
    media_type: str = "y"
    branch: str = "a"


def read_items_csv(path: Path) -> Iterator[tuple[int, ItemRow]]:
    """Yield (line, row) from a CSV with the exact ITEM_COLUMNS header, optionally then `branch`."""
    for line, fields in read_csv(path, ITEM_COLUMNS, optional=(BRANCH_COLUMN,)):
        values = [field.strip() for field in fields]
        yield line, ItemRow(*values)


def read_items_marc(
    path: Path, holdings: MarcHoldings, *, media_types: Collection[str] = MEDIA_TYPES
) -> Iterator[tuple[int, ItemRow]]:
    """Yield (record number, row) for every holdings field with a barcode in a MARC file.

    `media_types` (the configured ones) decides whether an unknown item-type code becomes
    "other"; see `media_type_for`.
    """
    for number, record in marc_records(path):
        fields = record.get_fields(holdings.tag)
        if not fields:
            continue
        title, author, isbn = title_of(record), author_of(record), isbn_of(record)
        for field in fields:
            barcode = holdings_value(field, holdings.barcode)
            if not barcode:
                continue
            yield (
                number,
                ItemRow(
                    barcode=barcode,
                    title=title,
                    author=author,
                    isbn=isbn,
                    call_number=holdings_value(field, holdings.call_number),
                    media_type=media_type_for(
                        holdings_value(field, holdings.media_type), media_types
                    ),
                    location=holdings_value(field, holdings.location),
                    branch=holdings_value(field, holdings.branch),
                ),
            )


def import_items(
    uow: UnitOfWork,
    actor: Actor,
    now: dt.datetime,
    rows: Iterable[tuple[int, ItemRow]],
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate every row, then write records and items; on any error raise ImportFailed.

    Nothing is inserted unless the whole file is valid. `progress` is called with the number of
    items written so far after each batch.
    """
    actor.require(Permission.IMPORT)
    rules = uow.env.rules
    checked = validate_rows(
        uow.session,
        rows,
        lambda row: _check_row(row, rules),
        lambda row: row.barcode,
        Item.barcode,
    )
    records_created, items_created = _insert(uow.session, checked, progress)
    report = ImportReport(
        rows=len(checked), records_created=records_created, items_created=items_created
    )
    append_event(
        uow.session,
        now=now,
        actor=actor.label,
        action="import.items",
        subject=None,
        detail={
            "rows": report.rows,
            "records_created": report.records_created,
            "items_created": report.items_created,
        },
    )
    return report


def _check_row(row: ItemRow, rules: CirculationRules) -> tuple[_CheckedItem, list[str]]:
    """The row with normalised values, and what is wrong with it."""
    problems: list[str] = []
    if not row.barcode:
        problems.append("barcode is empty")
    elif barcode_refusal(row.barcode, rules.barcodes) is not None:
        problems.append("barcode does not satisfy the barcode rule")
    if not row.title:
        problems.append("title is empty")
    isbn = compact_isbn(row.isbn)
    for name, value in (
        ("isbn", isbn),
        ("call_number", row.call_number),
        ("location", row.location),
    ):
        if len(value) > _LIMITS[name]:
            problems.append(f"{name} is longer than {_LIMITS[name]} characters")
        elif name == "isbn" and value and (problem := isbn_problem(value)) is not None:
            # A wrong ISBN would join copies to the wrong record: refused, never stored as if
            # it were right (an item without ISBN leaves the column empty).
            problems.append(f"isbn {value} {problem}")
    media_type = resolve_name(row.media_type, rules.media_types)
    if media_type is None:
        if row.media_type:
            problems.append(
                f"media type {row.media_type!r} is not configured "
                f"(configured: {', '.join(rules.media_types)})"
            )
        else:
            problems.append("media type is empty")
    branch = resolve_name(row.branch, rules.branches) if row.branch else rules.branches[0]
    if branch is None:
        problems.append(
            f"branch {row.branch!r} is not configured (configured: {', '.join(rules.branches)})"
        )
    normalised = _CheckedItem(
        row.barcode,
        # Display text only: cut to the column rather than refuse a whole catalogue for one title.
        row.title[:_TITLE_MAX],
        row.author[:_AUTHOR_MAX],
        isbn,
        row.call_number,
        media_type or row.media_type,
        row.location,
        branch or row.branch,
    )
    return normalised, problems


def _record_key(row: _CheckedItem) -> RecordKey:
    if row.isbn:
        return ("isbn", row.isbn)
    return ("work", row.title.casefold(), row.author.casefold())


def _records_by_isbn(session: Session, isbns: Collection[str]) -> dict[RecordKey, int]:
    """Stored records the file's ISBNs already have (the oldest, when several share one)."""
    found: dict[RecordKey, int] = {}
    for chunk in chunked(sorted(isbns), LOOKUP_CHUNK):
        query = select(Record.isbn, Record.id).where(Record.isbn.in_(chunk)).order_by(Record.id)
        for isbn, record_id in session.execute(query):
            found.setdefault(("isbn", isbn), record_id)
    return found


def _insert(
    session: Session,
    checked: list[_CheckedItem],
    progress: Callable[[int], None] | None,
) -> tuple[int, int]:
    """Second pass: ids assigned here (the unit of work holds the write lock), then bulk INSERTs."""
    record_ids = _records_by_isbn(session, {row.isbn for row in checked if row.isbn})
    next_record_id = (session.scalar(select(func.max(Record.id))) or 0) + 1
    next_item_id = (session.scalar(select(func.max(Item.id))) or 0) + 1
    new_records: list[dict[str, object]] = []
    new_items: list[dict[str, object]] = []
    for row in checked:
        key = _record_key(row)
        record_id = record_ids.get(key)
        if record_id is None:
            record_id = record_ids[key] = next_record_id
            next_record_id += 1
            new_records.append(
                {"id": record_id, "title": row.title, "author": row.author, "isbn": row.isbn}
            )
        new_items.append(
            {
                "id": next_item_id,
                "barcode": row.barcode,
                "record_id": record_id,
                "call_number": row.call_number,
                "media_type": row.media_type,
                "home_branch": row.branch,
                "location": row.location,
                "status": ItemStatus.AVAILABLE.value,
            }
        )
        next_item_id += 1
    connection = session.connection()
    for batch in chunked(new_records, BATCH_ROWS):
        connection.execute(insert(_RECORDS), batch)
    written = 0
    for batch in chunked(new_items, BATCH_ROWS):
        connection.execute(insert(_ITEMS), batch)
        written += len(batch)
        if progress is not None:
            progress(written)
    return len(new_records), len(new_items)
