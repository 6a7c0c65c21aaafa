"""The export files that the API and the team app both serve: from the loaded export
arguments (`service/schemas/export.py`) to a streamed download, so the two doors answer the
same bytes for the same query.

The response export streams: the caller checks the query and plans the columns with the
request session, then answers a generator that reads the rows on its own connection (opened
and closed inside the generator, because the request session is closed on teardown, before
the body is sent) through a server-side cursor, one batch at a time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask import Response

from service.api.queries import metrics_query, movement_query, response_filters
from service.db import db, engine
from surveys.clock import utcnow
from surveys.export.figures import metrics_export, movement_export
from surveys.export.responses import ExportQuery, export_chunks, plan_export, stream_rows
from surveys.models import Project

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
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


def responses_file(project: Project, args: dict[str, Any]) -> Response:
    """`ExportResponsesArgs` to the streamed file of every matching response."""
    fmt = args["format"]
    query = ExportQuery(
        filters=response_filters(args),
        pii=args["pii"],
        defang=fmt == "csv",
        properties=args.get("properties"),
    )
    plan = plan_export(db(), project, query)
    bound = engine()

    def batches():  # noqa: ANN202
        with bound.connect() as connection:
            yield from stream_rows(connection, plan)

    chunks = export_chunks(
        fmt, plan.columns, batches(), excel=args["excel"], defanged=plan.defanged
    )
    return download(chunks, plan.file_stem, fmt)


def metrics_file(project: Project, args: dict[str, Any]) -> Response:
    """`ExportMetricsArgs` to the NPS table's file."""
    columns, rows, stem = metrics_export(db(), project, metrics_query(args))
    fmt = args["format"]
    return download(export_chunks(fmt, columns, [rows], sheet_title="nps"), stem, fmt)


def movement_file(project: Project, args: dict[str, Any]) -> Response:
    """`ExportMovementArgs` to the movement table's file."""
    columns, rows, stem = movement_export(db(), project, movement_query(args), utcnow())
    fmt = args["format"]
    return download(export_chunks(fmt, columns, [rows], sheet_title="movement"), stem, fmt)
