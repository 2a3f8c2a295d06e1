"""Declarative base, naming convention, UTC datetimes and the per-column privacy annotations."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column
from sqlalchemy.schema import Column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC, returns aware UTC; refuses naive input so local time never slips in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class PiiClass(enum.StrEnum):
    """How directly a value identifies a person (docs/privacy.md, "Data classes")."""

    DIRECT = "direct"  # identifies a person on its own: name, barcode, e-mail
    INDIRECT = "indirect"  # identifies together with other data: ids, dates, categories
    NONE = "none"  # about things, not people


@dataclass(frozen=True)
class DataClass:
    """The privacy annotation of one column."""

    pii: PiiClass
    purpose: str
    retention: str


def annotated(
    *args: Any,
    pii: PiiClass,
    purpose: str,
    retention: str,
    **kwargs: Any,
) -> MappedColumn[Any]:
    """`mapped_column` with the privacy annotation every column must carry."""
    info = {"pii": pii.value, "purpose": purpose, "retention": retention}
    return mapped_column(*args, info=info, **kwargs)


def never_reused_ids() -> dict[str, object]:
    """Table options that keep a deleted row's id from ever being given out again (SQLite
    AUTOINCREMENT): pseudonyms, the audit log and the destruction ledger refer to rows by id,
    so a new row must never inherit an old one's (docs/data-inventory.md)."""
    return {"sqlite_autoincrement": True}


def column_annotations(column: Column[Any]) -> DataClass | None:
    """The annotation of a column, or None when it has none (a test fails for any such column)."""
    info = column.info
    try:
        return DataClass(
            pii=PiiClass(info["pii"]), purpose=str(info["purpose"]), retention=str(info["retention"])
        )
    except KeyError:
        return None
