"""The export page: every file the API exports (responses, the NPS table, movement; CSV,
NDJSON, XLSX, Parquet) with its filters on screen, downloaded through the team app with the
session's project, and the equivalent API command.

A form's fields are turned into the API's own query (dates in the project's time zone become
UTC instants, property names become `property:<name>`), loaded by the API's schema and served
by the same file function as `GET /api/v1/export/...`: the same query, the same bytes.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import abort, current_app, render_template, request
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from service.app.shell import bp, team
from service.db import db
from service.downloads import metrics_file, movement_file, responses_file
from service.errors import status_of
from service.schemas.export import ExportMetricsArgs, ExportMovementArgs, ExportResponsesArgs
from surveys.answers import RESPONSE_CHANNELS
from surveys.catalog import list_surveys
from surveys.errors import DomainError
from surveys.export.responses import FORMATS
from surveys.models import Project
from surveys.periods import zone
from surveys.property_refs import PREFIX
from surveys.segments import SEGMENTS
from surveys.themes.reading import list_points

SURVEYS_SHOWN = 200
GROUPS = ("quarter", "month", "week", "channel", "locale", "property")
# Every format the API's export serves, named for people.
FORMAT_NAMES = {
    "csv": "CSV",
    "ndjson": "NDJSON (JSON lines)",
    "xlsx": "Excel (XLSX)",
    "parquet": "Parquet",
}


@dataclass(frozen=True)
class ExportKind:
    name: str
    title: str
    schema: Schema
    make_file: Callable[[Project, dict[str, Any]], Response]
    # Fields passed to the API as typed; dates and checkboxes are translated.
    passed: tuple[str, ...]
    dates: tuple[str, ...] = ("since", "until")
    checkboxes: tuple[str, ...] = ()


KINDS = {
    kind.name: kind
    for kind in (
        ExportKind(
            "responses",
            "Responses",
            ExportResponsesArgs(),
            responses_file,
            ("format", "survey_id", "segment", "channel", "theme_id", "q", "properties"),
            checkboxes=("pii", "excel"),
        ),
        ExportKind(
            "metrics",
            "NPS table",
            ExportMetricsArgs(),
            metrics_file,
            ("format", "survey_id", "channel", "count"),
        ),
        ExportKind(
            "movement",
            "Movement",
            ExportMovementArgs(),
            movement_file,
            ("format", "survey_id", "period", "from", "to"),
            checkboxes=("series",),
        ),
    )
}


def _instant(day: date, project: Project) -> str:
    local = datetime.combine(day, time(), tzinfo=zone(project.time_zone))
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_query(kind: ExportKind, form: Mapping[str, str], project: Project) -> dict[str, str]:
    """The form's fields as the API's query string arguments, in a stable order."""
    query: dict[str, str] = {}
    for name in kind.passed:
        value = form.get(name, "").strip()
        if value:
            query[name] = value
    for name in kind.dates:
        value = form.get(name, "").strip()
        if not value:
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            query[name] = value  # the API's schema says what is wrong with it
            continue
        # `until` is the last day wanted: the API's bound is the instant after it.
        query[name] = _instant(day + timedelta(days=1) if name == "until" else day, project)
    if kind.name == "metrics":
        group = form.get("group_by", "").strip()
        if group == "property":
            group = PREFIX + form.get("group_property", "").strip()
        if group:
            query["group_by"] = group
    weight = form.get("weight", "").strip()
    if weight and kind.name != "responses":
        query["weight"] = PREFIX + weight
    for name in kind.checkboxes:
        query[name] = "true" if form.get(name) else "false"
    if kind.name == "responses" and not team().sees_emails:
        query["pii"] = "false"  # a viewer kept from people's emails does not export them
    return query


def api_command(kind: ExportKind, query: dict[str, str]) -> str:
    """The same download from a script, with the project's secret key."""
    public_url = current_app.config["FLYWHEEL"].public_url
    url = f"{public_url}/api/v1/export/{kind.name}?{urlencode(query)}"
    out = f"{kind.name}.{query.get('format', 'csv')}"
    return (
        'curl -fsS -H "Authorization: Bearer $FLYWHEEL_SECRET_KEY" '
        f"-o {shlex.quote(out)} {shlex.quote(url)}"
    )


def _problems(exc: ValidationError) -> list[str]:
    return [
        f"{name}: {' '.join(map(str, why if isinstance(why, list) else [why]))}"
        for name, why in sorted(exc.normalized_messages().items())
    ]


def _page(active: str | None, form: Mapping[str, str], problems: list[str], status: int = 200):  # noqa: ANN202
    project = team().project
    _, points = list_points(db(), project.id, None)
    surveys = list_surveys(db(), project.id, limit=SURVEYS_SHOWN, after=None, active=None).items
    commands = {}
    for kind in KINDS.values():
        chosen: Mapping[str, str] = {"format": "csv"}
        if kind.name == active:
            chosen = form
        elif kind.name == "movement":
            if not surveys:
                continue  # movement is per survey
            chosen = {"format": "csv", "survey_id": str(surveys[0].id)}
        commands[kind.name] = api_command(kind, api_query(kind, chosen, project))
    return render_template(
        "app/export.html",
        active=active,
        formats=[(f, FORMAT_NAMES.get(f, f)) for f in FORMATS],
        values=form,
        problems=problems,
        commands=commands,
        surveys=[(s.id, s.name) for s in surveys],
        points=[(p.id, p.label) for p in points],
        segments=[(s.value, s.value) for s in SEGMENTS],
        channels=[(c, c) for c in RESPONSE_CHANNELS],
        groups=[(g, g) for g in GROUPS],
        sees_emails=team().sees_emails,
    ), status


@bp.get("/export")
def export_page():  # noqa: ANN201
    """The forms; with `what=<kind>` (the "Show the API command" button) that form is filled in
    again and its command is the one for the chosen filters."""
    active = request.args.get("what")
    if active not in KINDS:
        return _page(None, {}, [])
    kind = KINDS[active]
    problems: list[str] = []
    try:
        kind.schema.load(api_query(kind, request.args, team().project))
    except ValidationError as exc:
        problems = _problems(exc)
    return _page(active, request.args, problems, 422 if problems else 200)


@bp.get("/export/<name>")
def export_file(name: str):  # noqa: ANN201
    """The file, streamed by the same function as the API's export of the same query."""
    kind = KINDS.get(name) or abort(404)
    try:
        args = kind.schema.load(api_query(kind, request.args, team().project))
        return kind.make_file(team().project, args)
    except ValidationError as exc:
        return _page(name, request.args, _problems(exc), 422)
    except DomainError as exc:
        return _page(name, request.args, [exc.message], status_of(exc))
