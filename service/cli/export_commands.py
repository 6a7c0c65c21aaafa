"""`flask --app wsgi export responses ...`: the analyst export to a file, with a progress bar."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime

import click
from flask.cli import AppGroup

from service.db import db, engine
from surveys.answers import RESPONSE_CHANNELS
from surveys.clock import to_naive_utc
from surveys.errors import DomainError
from surveys.export.responses import (
    FORMATS,
    ExportQuery,
    count_rows,
    export_chunks,
    plan_export,
    stream_rows,
)
from surveys.models import Project
from surveys.response_filters import ResponseFilters
from surveys.segments import SEGMENTS, Segment


class IsoTime(click.ParamType):
    """ISO 8601 (a trailing Z or an offset is converted to UTC; naive means UTC)."""

    name = "ISO-8601"

    def convert(self, value, param, ctx):  # noqa: ANN001
        if isinstance(value, datetime):
            return value
        try:
            return to_naive_utc(datetime.fromisoformat(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time", param, ctx)


export = AppGroup("export", help="Analyst exports, for people with database access.")


@export.command("responses")
@click.option("--project", "project_id", type=int, required=True, help="Project id.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), required=True,
              help="File to write ('-' for standard output).")  # fmt: skip
@click.option("--survey-id", type=int)
@click.option("--since", type=IsoTime(), help="Created at or after.")
@click.option("--until", type=IsoTime(), help="Created before.")
@click.option("--segment", type=click.Choice([s.value for s in SEGMENTS]))
@click.option("--channel", type=click.Choice(RESPONSE_CHANNELS))
@click.option("--person-id", type=int)
@click.option("--updated-since", type=IsoTime(), help="Changed at or after (incremental pulls).")
@click.option("--no-pii", is_flag=True, help="Leave out the email and name columns.")
@click.option("--excel", is_flag=True, help="CSV with a UTF-8 BOM, for Excel.")
@click.option("--properties", help="Comma-separated property names (default: all found).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error (default: when it is a terminal).")  # fmt: skip
def export_responses(
    project_id: int,
    fmt: str,
    out: str,
    survey_id: int | None,
    since: datetime | None,
    until: datetime | None,
    segment: str | None,
    channel: str | None,
    person_id: int | None,
    updated_since: datetime | None,
    no_pii: bool,
    excel: bool,
    properties: str | None,
    progress: bool | None,
) -> None:
    """Export responses like GET /api/v1/export/responses, straight from the database."""
    session = db()
    project = session.get(Project, project_id)
    if project is None:
        raise click.ClickException(f"project {project_id} not found")
    filters = ResponseFilters(
        survey_id=survey_id,
        since=since,
        until=until,
        segment=Segment(segment) if segment else None,
        person_id=person_id,
        channel=channel,
        updated_since=updated_since,
    )
    names = None
    if properties is not None:
        names = tuple(dict.fromkeys(n.strip() for n in properties.split(",") if n.strip()))
    query = ExportQuery(filters=filters, pii=not no_pii, defang=fmt == "csv", properties=names)
    try:
        plan = plan_export(session, project, query)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    total = count_rows(session, project.id, filters)
    session.close()
    show = sys.stderr.isatty() if progress is None else progress
    bar_context = (
        click.progressbar(length=total, label=f"Exporting {total:,} responses", file=sys.stderr)
        if show
        else contextlib.nullcontext(None)
    )
    bound = engine()

    def batches() -> Iterator:
        with bound.connect() as connection:
            yield from stream_rows(connection, plan)

    def counted() -> Iterator:
        for batch in batches():
            yield batch
            if bar is not None:
                bar.update(len(batch))

    with click.open_file(out, "wb") as sink, bar_context as bar:
        for chunk in export_chunks(
            fmt, plan.columns, counted(), excel=excel, defanged=plan.defanged
        ):
            sink.write(chunk)
    if out != "-":
        click.echo(f"{total:,} responses -> {out}", err=True)
