"""`flask --app wsgi import responses FILE ...`: answers from a CSV file, in chunks, with a
progress bar; bad rows are reported by line and the others stored."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import AppGroup
from marshmallow import ValidationError

from service.db import db
from service.schemas.batch import RowLoader, batch_row, invalid_row, row_result
from surveys.clock import utcnow
from surveys.errors import DomainError
from surveys.imports.batch import BATCH_MAX, record_batch
from surveys.imports.files import FORMATS, SourceRow, parse_mapping, read_rows
from surveys.models import Project

import_group = AppGroup("import", help="Bring answers in from files.")


class _Lines:
    """The file's lines as text, counting the bytes read for the progress bar."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.read = raw, 0

    def __iter__(self) -> Iterator[str]:
        for line in self.raw:
            self.read += len(line)
            yield line.decode("utf-8", errors="replace")


def _chunks(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    chunk: list[SourceRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@import_group.command("responses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", "project_id", type=int, required=True, help="Project id.")
@click.option(
    "--survey",
    "survey_id",
    type=int,
    help="Survey every answer is for (default: the file's survey_id column).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="ours",
    show_default=True,
    help="ours: our export's columns; delighted: Delighted's export; mapping: --map.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="With --format mapping: which column is which field (or property.NAME).",
)
@click.option("--chunk", type=click.IntRange(1, BATCH_MAX), default=5000, show_default=True,
              help="Rows stored per transaction.")  # fmt: skip
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error (default: when it is a terminal).")  # fmt: skip
def import_responses(
    file: Path,
    project_id: int,
    survey_id: int | None,
    fmt: str,
    maps: tuple[str, ...],
    chunk: int,
    progress: bool | None,
) -> None:
    """Import answers from a CSV FILE; a re-run creates nothing new.

    Each row is checked like an answer to POST /api/v1/responses; a bad row is reported on
    standard error with its line number and the others are stored. Exits 1 when a row failed.
    """
    session = db()
    if session.get(Project, project_id) is None:
        raise click.UsageError(f"no project {project_id}")
    try:
        mapping = parse_mapping(maps) if maps else None
    except DomainError as exc:
        raise click.UsageError(exc.message) from exc
    show = sys.stderr.isatty() if progress is None else progress
    counts = {"created": 0, "existing": 0, "failed": 0}
    with file.open("rb") as raw:
        lines = _Lines(raw)
        try:
            rows = read_rows(lines, fmt, mapping=mapping, survey_id=survey_id)
            first = next(rows, None)
        except DomainError as exc:
            raise click.UsageError(exc.message) from exc
        stream = rows if first is None else _prepend(first, rows)
        bar = click.progressbar(
            length=file.stat().st_size, label="importing", file=sys.stderr, hidden=not show
        )
        loader = RowLoader()
        with bar:
            for part in _chunks(stream, chunk):
                for result in _store(session, project_id, part, loader):
                    _count(counts, result)
                bar.update(lines.read - bar.pos)
    click.echo(
        f"created {counts['created']}, existing {counts['existing']}, failed {counts['failed']}"
    )
    if counts["failed"]:
        sys.exit(1)


def _prepend(first: SourceRow, rest: Iterator[SourceRow]) -> Iterator[SourceRow]:
    yield first
    yield from rest


def _store(session, project_id: int, part: list[SourceRow], loader: RowLoader) -> list[dict]:  # noqa: ANN001
    """One chunk in one transaction; the per-row results, indexed by line."""
    rows, invalid = [], []
    for source in part:
        try:
            rows.append(batch_row(source.line, loader.load(source.row)))
        except ValidationError as exc:
            invalid.append(invalid_row(source.line, exc.messages))
    stored = record_batch(session, project_id, rows, now=utcnow())
    session.commit()
    # The chunk's objects are not needed again: memory stays that of one chunk.
    session.expunge_all()
    return sorted([*map(row_result, stored), *invalid], key=lambda r: r["index"])


def _count(counts: dict[str, int], result: dict) -> None:
    if result["status"] == 201:
        counts["created"] += 1
    elif result["status"] == 200:
        counts["existing"] += 1
    else:
        counts["failed"] += 1
        error = result["error"]
        details = json.dumps(error["details"], ensure_ascii=False, default=str)
        click.echo(f"line {result['index']}: {error['message']} {details}", err=True)
