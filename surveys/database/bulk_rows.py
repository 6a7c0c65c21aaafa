"""Thousands of rows into one table in a few statements: multi-row VALUES on SQLite, COPY on
PostgreSQL.

SQLAlchemy's executemany forms (insertmanyvalues, the driver's executemany) process each
row's parameters in Python, row by row and column by column: for a batch of 10,000 answers
that cost more than the database's own work. Here the columns' own bind processors (the
types' public `bind_processor`, so values are stored exactly as the ORM stores them: JSON
text, SQLite's datetime strings) are applied once per value, and the rows go to the driver
through SQLAlchemy's public `exec_driver_sql` (SQLite) or psycopg's `Cursor.copy`
(PostgreSQL), inside the session's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from surveys.database.inserts import present_ids, reserve_ids

# SQLite 3.32+ takes up to 32,766 bound parameters per statement.
_SQLITE_PARAMETERS = 32_000


def insert_rows(
    session: Session,
    table: Table,
    keyed: list[dict[str, Any]],
    plain: list[dict[str, Any]],
    key: str,
) -> tuple[dict[Any, int], list[int]]:
    """Insert rows under a unique `key` that a concurrent writer may hold already (those are
    skipped), and rows without one; returns (key -> new id of each keyed row inserted, the
    new ids of the plain rows in their order). Every row has the same columns; a column left
    out takes its scalar default (`channel` "api"), as the ORM's INSERT would give it, and one
    with a computed default must be given."""
    keyed, plain = _with_defaults(table, keyed), _with_defaults(table, plain)
    if session.get_bind().dialect.name == "postgresql":
        return _copy_rows(session, table, keyed, plain, key)
    made: dict[Any, int] = {}
    if keyed:
        for rid, value in _sqlite_values(session, table, keyed, f"id, {key}", ignore=True):
            made[value] = rid
    ids: list[int] = []
    if plain:
        # Rowids of one statement's rows ascend in the rows' order: a new rowid is one past
        # the largest in the table, and this transaction is SQLite's one writer meanwhile.
        ids = sorted(rid for (rid,) in _sqlite_values(session, table, plain, "id", ignore=False))
    return made, ids


def _with_defaults(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        return rows
    missing = {
        c.key: c.default.arg
        for c in table.columns
        if c.key not in rows[0] and c.default is not None and c.default.is_scalar
    }
    return [{**missing, **row} for row in rows] if missing else rows


def _processors(session: Session, table: Table, columns: Sequence[str]) -> list[Callable | None]:
    dialect = session.get_bind().dialect
    return [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def _sqlite_values(
    session: Session, table: Table, rows: list[dict[str, Any]], returning: str, *, ignore: bool
) -> list[Any]:
    columns = list(rows[0])
    processors = _processors(session, table, columns)
    per = _SQLITE_PARAMETERS // len(columns)
    one = "(" + ",".join("?" * len(columns)) + ")"
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    tail = (" ON CONFLICT DO NOTHING" if ignore else "") + f" RETURNING {returning}"
    connection = session.connection()
    out: list[Any] = []
    for i in range(0, len(rows), per):
        chunk = rows[i : i + per]
        flat: list[Any] = []
        for row in chunk:
            for column, process in zip(columns, processors, strict=True):
                value = row[column]
                flat.append(value if process is None else process(value))
        sql = head + ",".join([one] * len(chunk)) + tail
        out.extend(connection.exec_driver_sql(sql, tuple(flat)).all())
    return out


def _copy_rows(
    session: Session,
    table: Table,
    keyed: list[dict[str, Any]],
    plain: list[dict[str, Any]],
    key: str,
) -> tuple[dict[Any, int], list[int]]:
    """Ids reserved from the table's sequence, then COPY. Keyed rows are copied inside a
    savepoint: a key a concurrent writer stored meanwhile fails the COPY, and then they go in
    again row by row with ON CONFLICT DO NOTHING, the concurrent writer's row kept."""
    import psycopg  # the PostgreSQL driver; only this branch needs it

    reserved = reserve_ids(session, table, len(keyed) + len(plain)) or []
    for row, rid in zip([*keyed, *plain], reserved, strict=True):
        row["id"] = rid
    made: dict[Any, int] = {}
    if keyed:
        try:
            with session.begin_nested():
                _copy(session, table, keyed)
            made = {r[key]: r["id"] for r in keyed}
        except psycopg.errors.UniqueViolation:
            session.execute(postgresql.insert(table).on_conflict_do_nothing(), keyed)
            held = present_ids(session, table, [r["id"] for r in keyed])
            made = {r[key]: r["id"] for r in keyed if r["id"] in held}
    if plain:
        _copy(session, table, plain)
    return made, [r["id"] for r in plain]


def _copy(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    # COPY's text format takes JSON as its text (encoded once here); psycopg writes the rest.
    encode = [isinstance(table.c[c].type, JSON) for c in columns]
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        names = ", ".join(columns)
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c]) if enc else row[c]
                        for c, enc in zip(columns, encode, strict=True)
                    ]
                )
