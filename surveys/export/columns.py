"""SQL expressions of the export columns, per dialect, so rows leave the database final.

Everything that is the same work for every row (ISO timestamps, segments, movement, property
values) is computed by the database: Python then only defangs and writes, which keeps the
export close to the speed of the database's own CSV dump. SQLite and PostgreSQL differ in
timestamp formatting and JSON access; those differences live here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, literal, literal_column, select
from sqlalchemy.sql.elements import ColumnClause

from surveys.export.formats import DEFANG_PREFIX, FORMULA_STARTS
from surveys.models import SurveyResponse
from surveys.response_filters import ResponseFilters, response_conditions
from surveys.segments import movement_between_case, rank_case

# JSON value types as the key pass reports them, normalised across dialects.
INTEGER, REAL, TRUE, FALSE, TEXT, NULL = "integer", "real", "true", "false", "text", "null"


def iso_utc(column: Any, dialect: str) -> ColumnElement[str]:
    """A stored naive-UTC time as ISO 8601 with microseconds and a Z."""
    if dialect == "postgresql":
        return func.to_char(column, literal('YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), type_=String)
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return func.replace(column, literal(" "), literal("T"), type_=String).concat(literal("Z"))


def defang_sql(value: Any) -> ColumnElement[Any]:
    """The SQL twin of `export_formats.defang`: done by the database, it costs no Python."""
    return case(
        (func.substr(value, 1, 1).in_(FORMULA_STARTS), literal(DEFANG_PREFIX).concat(value)),
        else_=value,
    )


def movement_case(counted: Any, previous: Any, score: Any) -> ColumnElement[str]:
    """The SQL twin of `response_context.movement_of`, null for answers that count nowhere."""
    return case(
        (counted.is_(None), None),
        else_=movement_between_case(rank_case(previous), rank_case(score)),
    )


def bool_text(column: Any) -> ColumnElement[str]:
    """'true' / 'false' whatever the dialect's boolean looks like."""
    return case((column.is_(True), literal("true")), else_=literal("false"))


def property_keys_statement(project_id: int, filters: ResponseFilters, dialect: str) -> Any:
    """(key, type) pairs of the JSON properties of the exported responses: one pass in SQL."""
    r = SurveyResponse
    conds = response_conditions(project_id, filters)
    if dialect == "postgresql":
        each = func.json_each(r.properties).table_valued("key", "value").alias("j")
        kind = case(
            (
                func.json_typeof(each.c.value) == "number",
                case(
                    (
                        cast(each.c.value, String).regexp_match(r"^-?[0-9]+$"),
                        literal(INTEGER),
                    ),
                    else_=literal(REAL),
                ),
            ),
            (func.json_typeof(each.c.value) == "string", literal(TEXT)),
            (func.json_typeof(each.c.value) == "boolean", cast(each.c.value, String)),
            else_=func.json_typeof(each.c.value),
        )
        return (
            select(each.c.key, kind.label("type"))
            .select_from(r)
            .join(each, literal_column("true"))
            .where(*conds)
            .distinct()
        )
    each = func.json_each(r.properties).table_valued("key", "type").alias("j")
    return (
        select(each.c.key, each.c.type)
        .select_from(r)
        .join(each, literal_column("1") == 1)
        .where(*conds)
        .distinct()
    )


def property_value(key: str, types: frozenset[str], dialect: str) -> ColumnElement[Any]:
    """One property of a response's snapshot; booleans as 'true'/'false' on both dialects."""
    props: ColumnClause[Any] = SurveyResponse.__table__.c.properties
    if dialect == "postgresql":
        return props.op("->>")(literal(key)).label(None)
    if '"' in key or "\\" in key or not (key.isascii() and key.isprintable()):
        # A JSON path cannot quote a double quote or a backslash, and SQLite matches its
        # labels against the stored text, where json.dumps wrote non-ASCII and control
        # characters as \u escapes: look the key up by name instead.
        each = func.json_each(props).table_valued("key", "value", "type").alias("pk")
        value = case(
            (each.c.type == TRUE, literal("true")),
            (each.c.type == FALSE, literal("false")),
            else_=each.c.value,
        )
        return select(value).where(each.c.key == key).scalar_subquery()
    path = literal(f'$."{key}"')
    if types & {TRUE, FALSE}:
        return case(
            (func.json_type(props, path) == TRUE, literal("true")),
            (func.json_type(props, path) == FALSE, literal("false")),
            else_=func.json_extract(props, path),
        )
    return func.json_extract(props, path)
