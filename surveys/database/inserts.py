"""INSERT ... ON CONFLICT DO NOTHING for rows that concurrent requests may both create.

Used instead of savepoints: SQLite's Python driver does not nest SAVEPOINTs inside its own
implicit transactions reliably, and a conflict here is an expected outcome, not an error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

from surveys.memo import memo


def column_values(obj: DeclarativeBase) -> dict[str, Any]:
    """The set columns of a transient object (defaults are filled in by the INSERT)."""
    return {
        c.key: getattr(obj, c.key)
        for c in obj.__table__.columns
        if c.key != "id" and getattr(obj, c.key) is not None
    }


M = TypeVar("M", bound=DeclarativeBase)


@memo(maxsize=32)
def _statement(model: type[DeclarativeBase], dialect: str) -> Insert:
    """Built once per model and dialect: constructing statements costs more than running
    them on the hot ingest path. The values come as parameters."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing().returning(model)


def insert_or_ignore(session: Session, obj: M) -> M | None:
    """Insert the object's row and return it as stored (defaults filled in, in the session),
    or None when a unique constraint already holds such a row.

    An ORM INSERT ... RETURNING the entity: the row comes back from the INSERT itself, so
    the new object costs no SELECT after it, and no unit-of-work flush."""
    stmt = _statement(type(obj), session.get_bind().dialect.name)
    return session.scalars(stmt, [column_values(obj)]).first()
