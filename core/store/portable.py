"""SQL that each dialect spells its own way, behind one expression the callers share."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import roles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class IdSet(roles.InElementRole, ColumnElement[int]):
    """A set of ids for ``column.in_(...)`` as one bound JSON array.

    Thousands of bound parameters would cost more to build than the statement they feed; one
    JSON array unpacked by the database costs one parameter on either dialect.
    """

    inherit_cache = True
    type = Integer()
    _traverse_internals = [("ids", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, ids: Sequence[int]) -> None:
        self.ids: BindParameter[str] = bindparam("id_set", value=json.dumps(list(ids)))


@compiles(IdSet)
def _json_each(element: IdSet, compiler: SQLCompiler, **kw: Any) -> str:
    ids = compiler.process(element.ids, **kw)  # a bound placeholder, never a value
    return f"(SELECT value FROM json_each({ids}))"  # noqa: S608


@compiles(IdSet, "postgresql")
def _json_array_elements(element: IdSet, compiler: SQLCompiler, **kw: Any) -> str:
    ids = compiler.process(element.ids, **kw)
    return f"(SELECT CAST(value AS INTEGER) FROM json_array_elements_text(CAST({ids} AS json)))"  # noqa: S608
