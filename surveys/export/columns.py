"""SQL expressions of the export columns, per dialect, so rows leave the database final.

Everything that is the same work for every row (ISO timestamps, segments, movement, property
values) is computed by the database: Python then only defangs and writes, which keeps the
export close to the speed of the database's own CSV dump. SQLite and PostgreSQL differ in
timestamp formatting and JSON access; those differences live here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnClause

from surveys.export.formats import DEFANG_PREFIX, FORMULA_STARTS
from surveys.models import FollowUp, Note, ResponseTag, SurveyResponse, Tag, User
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


def _joined(
    dialect: str, source: Any, value: Any, order: tuple[Any, ...], sep: str, defang: bool
) -> Any:
    """The `value`s of `source` (rows of one response, correlated to it) as one text in
    `order`: string_agg on PostgreSQL, group_concat over the ordered rows on SQLite. One index
    probe per exported row, so the export still streams from its first row. Defanged inside
    the subquery, so the database runs it once per row, not once per use in the CASE."""
    if dialect == "postgresql":
        agg = func.string_agg(value, aggregate_order_by(literal(sep), *order))
    else:
        # Correlated explicitly: SQLAlchemy leaves a subquery in FROM uncorrelated otherwise.
        rows = (
            source.with_only_columns(value.label("v"))
            .order_by(*order)
            .correlate(SurveyResponse)
            .subquery("agg")
        )
        agg = func.group_concat(rows.c.v, literal(sep))
        source = select().select_from(rows)
    return (
        source.with_only_columns(defang_sql(agg) if defang else agg)
        .correlate(SurveyResponse)
        .scalar_subquery()
    )


TRIAGE_COLUMNS = (
    "tags",
    "notes",
    "follow_up_status",
    "follow_up_owner",
    "follow_up_due_at",
    "follow_up_reason",
)


# The follow-up and its owner join the export's SELECT (one row per response at most: the
# follow-up's key is the response id), which costs less than a subquery per column.
FOLLOW_UP_OWNER = aliased(User, name="follow_up_owner")


def triage_joins(statement: Any) -> Any:
    """The outer joins `triage_columns` reads the follow-up columns from."""
    return statement.outerjoin(FollowUp, FollowUp.response_id == SurveyResponse.id).outerjoin(
        FOLLOW_UP_OWNER, FOLLOW_UP_OWNER.id == FollowUp.owner_id
    )


def triage_columns(dialect: str, defang: bool) -> list[tuple[str, str, Any]]:
    """(name, kind, expression) of the triage columns: tags by name joined with ", ", notes
    oldest first as "author: text" joined with a newline, and the follow-up's status, owner's
    email, due time and reason (from `triage_joins`). Tags and notes come defanged already
    when `defang` is set (kind "final": the caller must not defang them again)."""
    r = SurveyResponse
    text = "final" if defang else "text"
    tags = _joined(
        dialect,
        select(Tag.name)
        .join(ResponseTag, ResponseTag.tag_id == Tag.id)
        .where(ResponseTag.response_id == r.id),
        Tag.name,
        (func.lower(Tag.name), Tag.id),
        ", ",
        defang,
    )
    author = aliased(User)
    note_text = (
        func.coalesce(author.email, literal("(former member)"))
        .concat(literal(": "))
        .concat(Note.text)
    )
    notes = _joined(
        dialect,
        select(Note.id)
        .outerjoin(author, author.id == Note.author_id)
        .where(Note.response_id == r.id),
        note_text,
        (Note.id,),
        "\n",
        defang,
    )
    return [
        ("tags", text, tags),
        ("notes", text, notes),
        ("follow_up_status", "str", FollowUp.status),
        ("follow_up_owner", "text", FOLLOW_UP_OWNER.email),
        ("follow_up_due_at", "time", iso_utc(FollowUp.due_at, dialect)),
        ("follow_up_reason", "text", FollowUp.reason),
    ]
