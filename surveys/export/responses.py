"""Analyst export of responses: the column plan, one streaming SQL query, and its file name.

`plan_export` decides the columns (the stable ones, then one `property.<name>` per property
key found in the exported rows by one SQL pass) and builds one SELECT that joins the person,
the survey, the previous counted score (a window function) and the theme of the latest
finished run. `stream_rows` runs it on a server-side cursor and yields row batches, so memory
stays flat whatever the row count. Writers live in `export_formats` and `export_files`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, case, func, select
from sqlalchemy.orm import Session

from surveys.catalog import get_survey
from surveys.errors import Invalid
from surveys.export.columns import (
    FALSE,
    INTEGER,
    NULL,
    REAL,
    TRUE,
    bool_text,
    defang_sql,
    iso_utc,
    movement_case,
    property_keys_statement,
    property_value,
    triage_columns,
    triage_joins,
)
from surveys.export.files import parquet_chunks, xlsx_chunks
from surveys.export.formats import Batch, Column, csv_chunks, ndjson_chunks
from surveys.models import Person, Project, Survey, SurveyResponse
from surveys.property_refs import property_name
from surveys.response_context import latest_done_run_id, previous_scores, themes_of
from surveys.response_filters import ResponseFilters, response_conditions
from surveys.segments import segment_case

FORMATS = ("csv", "ndjson", "xlsx", "parquet")
PII_COLUMNS = frozenset({"email", "name"})
PROPERTY_PREFIX = "property."
# Databases cap a SELECT's width (SQLite: 2000 columns); past this, ask for `properties=`.
MAX_PROPERTY_COLUMNS = 500
BATCH_ROWS = 2000


@dataclass(frozen=True)
class ExportQuery:
    filters: ResponseFilters
    pii: bool = True
    # Defang text cells in SQL (for CSV; XLSX keeps exact text in string cells).
    defang: bool = False
    # None: every key found in the exported rows; otherwise exactly these, in this order.
    properties: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExportPlan:
    columns: tuple[Column, ...]
    statement: Select[Any]
    file_stem: str
    defanged: bool


def property_kind(types: frozenset[str]) -> str:
    """The column kind that holds every JSON type seen for a key."""
    seen = types - {NULL}
    if not seen:
        return "text"
    if seen <= {INTEGER}:
        return "int"
    if seen <= {INTEGER, REAL}:
        return "float"
    if seen <= {TRUE, FALSE}:
        return "bool"
    return "text"


def property_types(
    session: Session, project_id: int, filters: ResponseFilters
) -> dict[str, frozenset[str]]:
    """Every property key of the exported responses with the JSON types seen for it."""
    dialect = session.get_bind().dialect.name
    found: dict[str, set[str]] = {}
    for key, kind in session.execute(property_keys_statement(project_id, filters, dialect)):
        found.setdefault(key, set()).add(kind)
    return {key: frozenset(kinds) for key, kinds in sorted(found.items())}


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-_") or "x"


def export_file_stem(
    project: str, survey: str | None, what: str, since: datetime | None, until: datetime | None
) -> str:
    """E.g. acme_quarterly-nps_responses_2026-01-01_to_2026-04-01 (until is exclusive)."""
    if since and until:
        span = f"{since.date().isoformat()}_to_{until.date().isoformat()}"
    elif since:
        span = f"from_{since.date().isoformat()}"
    elif until:
        span = f"until_{until.date().isoformat()}"
    else:
        span = "all-time"
    parts = [_slug(project), _slug(survey) if survey else "all-surveys", _slug(what), span]
    return "_".join(parts)


def _property_columns(
    session: Session, project_id: int, query: ExportQuery
) -> list[tuple[str, frozenset[str]]]:
    types = property_types(session, project_id, query.filters)
    if query.properties is not None:
        names = [property_name(key, "properties", in_json_path=False) for key in query.properties]
        return [(key, types.get(key, frozenset())) for key in names]
    if len(types) > MAX_PROPERTY_COLUMNS:
        raise Invalid(
            f"the exported responses have {len(types)} property keys; name at most "
            f"{MAX_PROPERTY_COLUMNS} with properties=a,b,c (or properties= for none)",
            {"properties": [f"at most {MAX_PROPERTY_COLUMNS} property columns"]},
        )
    return list(types.items())


def export_statement(
    project_id: int,
    filters: ResponseFilters,
    *,
    dialect: str,
    run_id: int | None,
    pii: bool,
    defang: bool,
    properties: Sequence[tuple[str, frozenset[str]]],
    triage: bool = True,
) -> tuple[tuple[Column, ...], Select[Any]]:
    """The columns and the one SELECT that yields them, in response id order (`triage=False`
    leaves out the triage columns: what the export cost before them, for the benchmark)."""
    r = SurveyResponse
    window = previous_scores(project_id)
    # The window partitions by survey and person, so narrowing by them keeps it exact.
    if filters.survey_id is not None:
        window = window.where(r.survey_id == filters.survey_id)
    if filters.person_id is not None:
        window = window.where(r.person_id == filters.person_id)
    prev = window.subquery("prev")
    themes = themes_of(run_id).subquery("themes")
    counted = prev.c.response_id
    spec: list[tuple[str, str, Any]] = [
        ("response_id", "int", r.id),
        ("created_at", "time", iso_utc(r.created_at, dialect)),
        ("updated_at", "time", iso_utc(r.updated_at, dialect)),
        ("survey_id", "int", r.survey_id),
        ("survey_name", "text", Survey.name),
        ("person_id", "int", r.person_id),
        ("external_id", "text", Person.external_id),
        ("email", "text", Person.email),
        ("name", "text", Person.name),
        ("score", "int", r.score),
        ("segment", "str", segment_case(r.score)),
        ("comment", "text", r.comment),
        ("channel", "str", r.channel),
        ("locale", "text", r.locale),
        ("excluded", "bool", bool_text(r.excluded)),
        (
            "previous_segment",
            "str",
            case((counted.is_(None), None), else_=segment_case(prev.c.previous_score)),
        ),
        ("movement", "str", movement_case(counted, prev.c.previous_score, r.score)),
        ("theme", "text", themes.c.theme),
        *(triage_columns(dialect, defang) if triage else []),
    ]
    if not pii:
        spec = [s for s in spec if s[0] not in PII_COLUMNS]
    for key, types in properties:
        spec.append(
            (PROPERTY_PREFIX + key, property_kind(types), property_value(key, types, dialect))
        )
    if defang:
        spec = [(n, k, defang_sql(e) if k == "text" else e) for n, k, e in spec]
    spec = [(n, "text" if k == "final" else k, e) for n, k, e in spec]
    columns = tuple(Column(name, kind) for name, kind, _ in spec)
    # Positional labels: property names can be longer than an SQL identifier may be.
    stmt = (
        select(*[expr.label(f"c{i}") for i, (_, _, expr) in enumerate(spec)])
        .select_from(r)
        .join(Person, Person.id == r.person_id)
        .outerjoin(Survey, Survey.id == r.survey_id)
        .outerjoin(prev, prev.c.response_id == r.id)
        .outerjoin(themes, themes.c.response_id == r.id)
        .where(*response_conditions(project_id, filters))
        .order_by(r.id)
    )
    if triage:
        stmt = triage_joins(stmt)
    return columns, stmt


def plan_export(session: Session, project: Project, query: ExportQuery) -> ExportPlan:
    """Check the query, find the property keys and build the statement (no rows read yet)."""
    survey = None
    if query.filters.survey_id is not None:
        survey = get_survey(session, project.id, query.filters.survey_id)
    columns, stmt = export_statement(
        project.id,
        query.filters,
        dialect=session.get_bind().dialect.name,
        run_id=latest_done_run_id(session, project.id),
        pii=query.pii,
        defang=query.defang,
        properties=_property_columns(session, project.id, query),
    )
    stem = export_file_stem(
        project.name,
        survey.name if survey else None,
        "responses",
        query.filters.since,
        query.filters.until,
    )
    return ExportPlan(columns=columns, statement=stmt, file_stem=stem, defanged=query.defang)


def count_rows(session: Session, project_id: int, filters: ResponseFilters) -> int:
    """How many rows an export will have (for a progress bar)."""
    stmt = (
        select(func.count())
        .select_from(SurveyResponse)
        .where(*response_conditions(project_id, filters))
    )
    return int(session.scalar(stmt) or 0)


def stream_rows(
    connection: Connection, plan: ExportPlan, batch_rows: int = BATCH_ROWS
) -> Iterator[Sequence[Sequence[Any]]]:
    """Row batches from a server-side cursor: at most one batch is held at a time."""
    result = connection.execution_options(stream_results=True, yield_per=batch_rows).execute(
        plan.statement
    )
    try:
        yield from result.partitions()
    finally:
        result.close()


def export_chunks(
    fmt: str,
    columns: Sequence[Column],
    batches: Iterable[Batch],
    *,
    excel: bool = False,
    defanged: bool = False,
    sheet_title: str = "responses",
) -> Iterator[bytes]:
    """The bytes of an export in one of FORMATS, produced as the batches arrive."""
    if fmt == "csv":
        return csv_chunks(columns, batches, excel=excel, defanged=defanged)
    if fmt == "ndjson":
        return ndjson_chunks(columns, batches)
    if fmt == "xlsx":
        return xlsx_chunks(columns, batches, sheet_title=sheet_title)
    if fmt == "parquet":
        return parquet_chunks(columns, batches)
    raise Invalid(f"unknown format {fmt!r}", {"format": [f"one of {', '.join(FORMATS)}"]})
