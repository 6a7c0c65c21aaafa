"""`column IN (values)` for thousands of values: one array parameter on PostgreSQL.

An expanded IN list sends and plans one bound parameter per value; on PostgreSQL a list of
a few thousand costs more than the rows it finds. `= ANY(array)` binds one parameter but, as
a filter on a table whose statistics lag behind a bulk load, compares every row scanned with
every value; `IN (SELECT unnest(array))` is a semi-join, hashed or by index, linear either
way. SQLite has no arrays, and its expanded IN is cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.dialects import postgresql


def one_of(column: Any, values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column.in_(select(func.unnest(array)))
    return column.in_(list(values))
