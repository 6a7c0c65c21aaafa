"""INSERT ... ON CONFLICT DO NOTHING for rows that concurrent requests may both create.

Used instead of savepoints: SQLite's Python driver does not nest SAVEPOINTs inside its own
implicit transactions reliably, and a conflict here is an expected outcome, not an error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

from surveys.database.lists import one_of
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


@memo(maxsize=32)
def _rows_statement(model: type[DeclarativeBase], dialect: str) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing()


def insert_rows_or_ignore(
    session: Session, model: type[DeclarativeBase], rows: list[dict[str, Any]]
) -> None:
    """Insert rows keyed by something other than an id (a link table, one row per response),
    leaving alone any whose key another writer took first."""
    if rows:
        session.execute(_rows_statement(model, session.get_bind().dialect.name), rows)


def reserve_ids(session: Session, table: Table, count: int) -> list[int] | None:
    """`count` new ids from the table's sequence on PostgreSQL, for a multi-row INSERT that
    then needs no RETURNING: through the driver's executemany it costs a fifth of the same
    INSERT ... RETURNING. None on SQLite, which has no sequences (its RETURNING is cheap)."""
    if session.get_bind().dialect.name != "postgresql" or count == 0:
        return None
    sequence = func.pg_get_serial_sequence(table.name, "id")
    stmt = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
    return list(session.scalars(stmt))


def present_ids(session: Session, table: Table, ids: list[int]) -> set[int]:
    """Which of these ids the table holds (after an INSERT ... ON CONFLICT DO NOTHING with
    reserved ids: those it skipped are absent)."""
    dialect = session.get_bind().dialect.name
    found: set[int] = set()
    for i in range(0, len(ids), 5000):
        chunk = ids[i : i + 5000]
        stmt = select(table.c.id).where(one_of(table.c.id, chunk, dialect))
        found.update(session.scalars(stmt))
    return found
