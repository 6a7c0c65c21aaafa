"""Analyst exports: responses, NPS tables and movement as CSV, NDJSON, XLSX or Parquet.

The response export streams: the view checks the query and plans the columns with the request
session, then answers a generator that reads the rows on its own connection (opened and closed
inside the generator, because the request session is closed on teardown, before the body is
sent) through a server-side cursor, one batch at a time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote

from flask import Response

from service.api.base import api_blueprint
from service.api.queries import metrics_query, movement_query, response_filters
from service.auth import current_project
from service.db import db, engine
from service.schemas.export import ExportMetricsArgs, ExportMovementArgs, ExportResponsesArgs
from surveys.clock import utcnow
from surveys.export.figures import metrics_export, movement_export
from surveys.export.responses import ExportQuery, export_chunks, plan_export, stream_rows

bp = api_blueprint("export", __name__, "Analyst exports: CSV, NDJSON, XLSX and Parquet.")

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def _file_responses(description: str) -> dict:
    return {
        "200": {
            "description": description,
            "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()},
        }
    }


def content_disposition(file_name: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name for clients that read it."""
    ascii_name = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-") or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


def download(chunks: Iterator[bytes], stem: str, fmt: str) -> Response:
    response = Response(chunks, mimetype=MEDIA_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = MEDIA_TYPES[fmt]
    response.headers["Content-Disposition"] = content_disposition(f"{stem}.{fmt}")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Tells nginx-style proxies not to buffer the whole stream before passing it on.
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.route("/export/responses", methods=["GET"])
@bp.arguments(ExportResponsesArgs, location="query")
@bp.doc(responses=_file_responses("The export file, streamed (chunked)."))
def export_responses(args):
    """Every response with its segment, movement, theme and properties, streamed.

    Columns, in this order: `response_id`, `created_at`, `updated_at` (ISO 8601 UTC),
    `survey_id`, `survey_name`, `person_id`, `external_id`, `email`, `name`, `score`,
    `segment`, `comment`, `channel`, `locale`, `excluded`, `previous_segment`, `movement`
    (up/down/stayed/new), `theme`, then `property.<name>` per property key, sorted. In CSV a
    text cell starting with `= + - @`, tab or carriage return gets a leading `'`.
    """
    fmt = args["format"]
    query = ExportQuery(
        filters=response_filters(args),
        pii=args["pii"],
        defang=fmt == "csv",
        properties=args.get("properties"),
    )
    plan = plan_export(db(), current_project(), query)
    bound = engine()

    def batches():
        with bound.connect() as connection:
            yield from stream_rows(connection, plan)

    chunks = export_chunks(
        fmt, plan.columns, batches(), excel=args["excel"], defanged=plan.defanged
    )
    return download(chunks, plan.file_stem, fmt)


@bp.route("/export/metrics", methods=["GET"])
@bp.arguments(ExportMetricsArgs, location="query")
@bp.doc(responses=_file_responses("One row for the overall NPS, then one per bucket."))
def export_metrics(args):
    """The table behind `GET /metrics/nps`: counts, shares, NPS, interval and change."""
    columns, rows, stem = metrics_export(db(), current_project(), metrics_query(args))
    fmt = args["format"]
    return download(export_chunks(fmt, columns, [rows], sheet_title="nps"), stem, fmt)


@bp.route("/export/movement", methods=["GET"])
@bp.arguments(ExportMovementArgs, location="query")
@bp.doc(responses=_file_responses("One row per flow: the 3x3 matrix, then new and lapsed."))
def export_movement(args):
    """The table behind `GET /metrics/movement`: people per (from, to) segment pair.

    Columns: `from_period`, `to_period`, `from_segment`, `to_segment`, `movement`
    (up/down/stayed/new/lapsed), `people`, `pct_of_from_segment`, and `weight` with
    `weight=property:<name>`. `series=true` gives every consecutive pair in since/until.
    """
    query = movement_query(args)
    columns, rows, stem = movement_export(db(), current_project(), query, utcnow())
    fmt = args["format"]
    return download(export_chunks(fmt, columns, [rows], sheet_title="movement"), stem, fmt)
