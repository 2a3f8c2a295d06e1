"""What every import shares: the report, the all-or-nothing failure, CSV reading, store look-ups."""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.errors import ImportRowError, ReticentError

# Enough to show what is wrong with a file without flooding a screen; a file that is wrong on
# every line is usually the wrong file.
MAX_ERRORS = 50
# Rows per INSERT batch: large enough to amortise statement overhead, small enough to keep
# the parameter lists in memory modest.
BATCH_ROWS = 5000
# Values per IN (...) query; well under SQLite's and PostgreSQL's bound-parameter limits.
LOOKUP_CHUNK = 900

T = TypeVar("T")


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote: rows read, and the records, items or patrons created."""

    rows: int
    records_created: int = 0
    items_created: int = 0
    patrons_created: int = 0


class ImportFailed(ReticentError):
    """The file had errors and nothing of it was written; `errors` lists them by line.

    The message names line numbers and reasons only, never a value from the file (PRIV-09).
    """

    def __init__(self, errors: Sequence[ImportRowError], *, more: bool = False) -> None:
        self.errors = tuple(errors)
        self.more = more
        lines = [str(error) for error in self.errors]
        if more:
            lines.append(f"(stopped after {len(self.errors)} errors; there may be more)")
        count = f"{len(self.errors)}{'+' if more else ''}"
        super().__init__(f"nothing was imported; {count} error(s):\n" + "\n".join(lines))


class ErrorList:
    """Collects row errors up to MAX_ERRORS; `full` tells the validator to stop reading."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        self.limit = limit
        self.errors: list[ImportRowError] = []
        self.more = False

    @property
    def full(self) -> bool:
        return len(self.errors) >= self.limit

    def add(self, line: int, reason: str) -> None:
        self.append(ImportRowError(line, reason))

    def append(self, error: ImportRowError) -> None:
        if self.full:
            self.more = True
        else:
            self.errors.append(error)

    def raise_if_any(self) -> None:
        if self.errors:
            ordered = sorted(self.errors, key=lambda error: error.line)
            raise ImportFailed(ordered, more=self.more)


def collect_rows(rows: Iterable[tuple[int, T]], errors: ErrorList) -> Iterator[tuple[int, T]]:
    """Pass rows through until the error list is full (then mark it `more` if rows remain).

    A reader raises ImportRowError only when it cannot go on (wrong header, broken CSV quoting,
    an unreadable MARC record): that error is recorded and ends the reading. The errors of
    well-formed rows are collected by the validator instead.
    """
    iterator = iter(rows)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except ImportRowError as error:
            errors.append(error)
            return
        if errors.full:
            errors.more = True
            return
        yield item


def read_csv(
    path: Path, header: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line of the row, fields) for each non-empty row after an exact header.

    `optional` columns may follow the required ones, in that order; every row must have as many
    fields as the header. Line numbers are physical lines, so a quoted field spanning lines
    does not shift the numbers of later rows.
    """
    expected = ",".join(header)
    allowed = [list(header) + list(optional[:n]) for n in range(len(optional) + 1)]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        last_line = 0
        width: int | None = None
        try:
            for fields in reader:
                line = last_line + 1
                last_line = reader.line_num
                if width is None:
                    if fields not in allowed:
                        extra = (
                            f" (optionally followed by {','.join(optional)})" if optional else ""
                        )
                        raise ImportRowError(1, f"header must be exactly {expected}{extra}")
                    width = len(fields)
                    continue
                if not fields or all(not field.strip() for field in fields):
                    continue
                if len(fields) != width:
                    raise ImportRowError(line, f"expected {width} fields, found {len(fields)}")
                yield line, fields
        except csv.Error:
            # csv's message may quote the offending text; say where, not what (PRIV-09).
            raise ImportRowError(last_line + 1, "the file cannot be read as CSV here") from None
        except UnicodeDecodeError:
            raise ImportRowError(
                last_line + 1, "the file is not valid UTF-8 at or after this line"
            ) from None
        if last_line == 0:
            raise ImportRowError(1, f"the file is empty; header must be exactly {expected}")


def chunked(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing_values(
    session: Session, column: InstrumentedAttribute[str], values: Collection[str]
) -> set[str]:
    """The subset of `values` already stored in `column`."""
    found: set[str] = set()
    for chunk in chunked(sorted(values), LOOKUP_CHUNK):
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


def column_length(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]) -> int:
    """The declared length of a String column, so limits are stated once, in the model."""
    length = getattr(column.property.columns[0].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no declared length")
    return length


def resolve_name(value: str, configured: Sequence[str]) -> str | None:
    """The configured name `value` stands for, matching case-insensitively; None when none does."""
    if value in configured:
        return value
    folded = value.casefold()
    for name in configured:
        if name.casefold() == folded:
            return name
    return None


Row = TypeVar("Row")
Checked = TypeVar("Checked")


def validate_rows(
    session: Session,
    rows: Iterable[tuple[int, Row]],
    check: Callable[[Row], tuple[Checked | None, list[str]]],
    barcode_of: Callable[[Row], str],
    stored_barcode: InstrumentedAttribute[str],
) -> list[Checked]:
    """First pass: every row checked, every error collected (up to MAX_ERRORS), nothing written.

    `check` gives the row's checked value (None when invalid) and what is wrong with it;
    barcodes must be unique in the file and new to the store.
    """
    errors = ErrorList()
    first_line: dict[str, int] = {}
    checked: list[Checked] = []
    for line, row in collect_rows(rows, errors):
        value, problems = check(row)
        for problem in problems:
            errors.add(line, problem)
        barcode = barcode_of(row)
        if barcode and barcode in first_line:
            errors.add(line, f"duplicate barcode (also on line {first_line[barcode]})")
            continue
        if barcode:
            first_line[barcode] = line
        if value is not None and not problems:
            checked.append(value)
    if not errors.full:
        for barcode in existing_values(session, stored_barcode, first_line):
            errors.add(first_line[barcode], "barcode is already in the store")
    errors.raise_if_any()
    return checked
