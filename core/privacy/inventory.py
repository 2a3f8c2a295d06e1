"""The data inventory: what we collect, why and for how long, rendered from the schema (PRIV-06)."""

from __future__ import annotations

import textwrap

from sqlalchemy import Table

from core.model import Base, PiiClass, column_annotations
from core.privacy.lifecycle import LIFECYCLE

INVENTORY_PATH = "docs/data-inventory.md"
REGENERATE = f"reticent inventory --write {INVENTORY_PATH}"

_PII_MEANING = {
    PiiClass.DIRECT: "identifies a person on its own (a name, a card barcode, an e-mail address)",
    PiiClass.INDIRECT: "identifies a person only together with other data (ids, dates, categories)",
    PiiClass.NONE: "about things, not people",
}


def _cell(text: str) -> str:
    # A pipe would split the Markdown cell; line breaks would end the row.
    return " ".join(text.split()).replace("|", "\\|")


def _table_purpose(table: Table) -> str:
    for mapper in Base.registry.mappers:
        if mapper.local_table is table:
            doc = mapper.class_.__doc__ or ""
            return " ".join(doc.split())
    return ""


def render_inventory() -> str:
    """Markdown: one section per table, one row per column with PII class, purpose, retention."""
    lines = [
        "# Data inventory: what we collect, why, and for how long",
        "",
        "This page is generated from the annotations every column of the database carries",
        f'(docs/privacy.md, "Data classes"). Do not edit it by hand: run `{REGENERATE}`.',
        "",
        "PII classes:",
        "",
    ]
    lines += [f"- **{pii.value}**: {meaning}" for pii, meaning in _PII_MEANING.items()]
    lines += ["", "## How data leaves the store"]
    for heading, paragraph in LIFECYCLE:
        wrapped = textwrap.wrap(paragraph, width=100, break_on_hyphens=False)
        lines += ["", f"### {heading}", "", *wrapped]
    for table in sorted(Base.metadata.sorted_tables, key=lambda t: t.name):
        lines += ["", f"## {table.name}", ""]
        purpose = _table_purpose(table)
        if purpose:
            lines += [_cell(purpose), ""]
        lines += ["| column | PII class | purpose | retention |", "|---|---|---|---|"]
        for column in table.columns:
            note = column_annotations(column)
            if note is None:
                row = ("**not annotated**", "", "")
            else:
                row = (note.pii.value, _cell(note.purpose), _cell(note.retention))
            lines.append(f"| `{column.name}` | {row[0]} | {row[1]} | {row[2]} |")
    return "\n".join(lines) + "\n"
