"""The NPS and movement exports: from a query to the columns, rows and file name, in one call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from surveys.analytics.metrics import MetricsQuery, nps_metrics
from surveys.analytics.movement import MovementQuery, movement
from surveys.catalog import get_survey
from surveys.export.formats import Column
from surveys.export.responses import export_file_stem
from surveys.export.tables import metrics_table, movement_table
from surveys.models import Project

Table = tuple[tuple[Column, ...], list[Sequence[Any]], str]


def metrics_export(session: Session, project: Project, query: MetricsQuery) -> Table:
    """The table behind the NPS figures (overall, then per bucket) and its file stem."""
    filters = query.filters
    survey = get_survey(session, project.id, filters.survey_id) if filters.survey_id else None
    columns, rows = metrics_table(nps_metrics(session, project, query))
    what = f"nps-by-{query.group_by}" if query.group_by else "nps"
    stem = export_file_stem(
        project.name, survey.name if survey else None, what, filters.since, filters.until
    )
    return columns, rows, stem


def movement_export(
    session: Session, project: Project, query: MovementQuery, now: datetime
) -> Table:
    """The table behind the movement figures (one row per flow) and its file stem, named by
    the span of the periods it covers."""
    result = movement(session, project, query, now)
    survey = get_survey(session, project.id, query.survey_id)
    columns, rows = movement_table(result)
    pairs = result.get("series", [result])
    since = pairs[0]["from"]["start"] if pairs else None
    until = pairs[-1]["to"]["end"] if pairs else None
    stem = export_file_stem(project.name, survey.name, "movement", since, until)
    return columns, rows, stem
