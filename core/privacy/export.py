"""Everything held about one patron, generated from the schema's own annotations (PRIV-04)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Table, select
from sqlalchemy.orm import Session

from core.audit import append_event
from core.model import AuditEvent, Base, Patron, column_annotations
from core.privacy.training import require_training
from core.services._queries import patron_by_barcode
from core.services.actors import Actor, Permission
from core.store.uow import UnitOfWork

ExportValue = str | int | bool | None
PATRON_COLUMN = "patron_id"
PATRONS_TABLE = Patron.__tablename__
AUDIT_TABLE = AuditEvent.__tablename__


def is_secret_column(name: str) -> bool:
    """Columns never exported: PIN and password hashes, chain hashes, keys (PRIV-09)."""
    return name.endswith(("hash", "secret"))


@dataclass(frozen=True)
class ExportedColumn:
    """A column of an exported table with its privacy annotation."""

    name: str
    pii: str
    purpose: str
    retention: str


@dataclass(frozen=True)
class ExportedTable:
    """The rows of one table that are about the patron; values in `columns` order."""

    name: str
    columns: tuple[ExportedColumn, ...]
    rows: tuple[tuple[ExportValue, ...], ...]


@dataclass(frozen=True)
class PatronExport:
    """Every table holding data about the patron, their audit events included (by pseudonym)."""

    generated_at: dt.datetime
    subject: str
    tables: tuple[ExportedTable, ...]

    def table(self, name: str) -> ExportedTable | None:
        return next((t for t in self.tables if t.name == name), None)


def _plain(value: object) -> ExportValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _exported_columns(table: Table) -> list[Column[object]]:
    return [c for c in table.columns if not is_secret_column(c.name)]


def _describe(columns: Sequence[Column[object]]) -> tuple[ExportedColumn, ...]:
    described = []
    for column in columns:
        note = column_annotations(column)
        if note is None:  # tests/core/test_store.py forbids this; say so rather than hide it
            described.append(ExportedColumn(column.name, "unannotated", "", ""))
        else:
            described.append(
                ExportedColumn(column.name, note.pii.value, note.purpose, note.retention)
            )
    return tuple(described)


def patron_tables() -> list[Table]:
    """Tables holding rows about one patron: `patron_id` tables, then tables hanging off them.

    Read from the metadata at call time, so a table added to the schema later is exported
    without anyone remembering to list it here.
    """
    owned: list[Table] = []
    for table in Base.metadata.sorted_tables:  # parents before children
        if table.name == PATRONS_TABLE:
            continue
        if PATRON_COLUMN in table.c:
            owned.append(table)
    for table in Base.metadata.sorted_tables:
        if table in owned or table.name == PATRONS_TABLE:
            continue
        if _parent_link(table, owned) is not None:
            owned.append(table)
    return owned


def _parent_link(table: Table, owned: Iterable[Table]) -> tuple[Column[object], Table] | None:
    """A foreign key of `table` into a patron-owned table (fee payments hang off fees)."""
    for fk in table.foreign_keys:
        if fk.column.table in owned and fk.column.primary_key and fk.parent.table is table:
            return fk.parent, fk.column.table
    return None


def _rows_of(
    session: Session, table: Table, owned: list[Table], patron_id: int
) -> list[Sequence[object]]:
    columns = _exported_columns(table)
    if PATRON_COLUMN in table.c:
        query = select(*columns).where(table.c[PATRON_COLUMN] == patron_id)
    else:
        link = _parent_link(table, owned)
        assert link is not None
        child_column, parent = link
        parent_ids = select(parent.primary_key.columns.values()[0]).where(
            parent.c[PATRON_COLUMN] == patron_id
        )
        query = select(*columns).where(child_column.in_(parent_ids))
    primary = list(table.primary_key.columns)
    return list(session.execute(query.order_by(*primary)))


def _table(table: Table, rows: Iterable[Sequence[object]]) -> ExportedTable:
    columns = _exported_columns(table)
    return ExportedTable(
        table.name,
        _describe(columns),
        tuple(tuple(_plain(v) for v in row) for row in rows),
    )


def export_patron(uow: UnitOfWork, actor: Actor, now: dt.datetime, barcode: str) -> PatronExport:
    """Everything about one patron except secrets, for the patron to check (PRIV-04). Audited."""
    actor.require(Permission.EXPORT_PATRON)
    require_training(uow, actor, now)  # PRIV-15: no patron data before the training
    session = uow.session
    patron = patron_by_barcode(session, barcode)
    subject = uow.env.pseudonyms.patron(patron.id)
    patrons = Base.metadata.tables[PATRONS_TABLE]
    tables = [
        _table(
            patrons,
            session.execute(select(*_exported_columns(patrons)).where(patrons.c.id == patron.id)),
        )
    ]
    owned = patron_tables()
    for table in owned:
        tables.append(_table(table, _rows_of(session, table, owned, patron.id)))
    audit = Base.metadata.tables[AUDIT_TABLE]
    tables.append(
        _table(
            audit,
            session.execute(
                select(*_exported_columns(audit))
                .where(audit.c.subject == subject)
                .order_by(audit.c.id)
            ),
        )
    )
    result = PatronExport(generated_at=now, subject=subject, tables=tuple(tables))
    append_event(
        session,
        now=now,
        actor=actor.label,
        action="patron.export",
        subject=subject,
        detail={"tables": len(result.tables), "rows": sum(len(t.rows) for t in result.tables)},
    )
    return result


def export_as_json(export: PatronExport) -> str:
    """The export as JSON: per table, the column annotations and one object per row."""
    document = {
        "generated_at": export.generated_at.isoformat(),
        "tables": [
            {
                "table": t.name,
                "columns": [
                    {"name": c.name, "pii": c.pii, "purpose": c.purpose, "retention": c.retention}
                    for c in t.columns
                ],
                "rows": [
                    {c.name: v for c, v in zip(t.columns, row, strict=True)} for row in t.rows
                ],
            }
            for t in export.tables
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def export_as_text(export: PatronExport) -> str:
    """The export as text a patron can read: each value beside why it is kept and for how long."""
    lines = [
        "Everything this library system holds about you",
        f"generated {export.generated_at.strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    for table in export.tables:
        lines += ["", f"== {table.name} ({len(table.rows)} rows) =="]
        if not table.rows:
            lines.append("  (nothing)")
        width = max((len(c.name) for c in table.columns), default=0)
        for number, row in enumerate(table.rows, start=1):
            if len(table.rows) > 1:
                lines.append(f"  -- {number} --")
            for column, value in zip(table.columns, row, strict=True):
                shown = "-" if value is None else str(value)
                lines.append(
                    f"  {column.name:<{width}}  {shown}"
                    f"    [{column.pii}; {column.purpose}; kept: {column.retention}]"
                )
    return "\n".join(lines) + "\n"
