"""Analyst exports: responses, NPS tables and movement as CSV, NDJSON, XLSX or Parquet.

The files themselves are made in `service/downloads.py`, which the team app's export page
serves too: the same arguments give the same bytes through either door.
"""

from __future__ import annotations

from service.api.base import api_blueprint
from service.auth import current_project
from service.downloads import MEDIA_TYPES, metrics_file, movement_file, responses_file
from service.schemas.export import ExportMetricsArgs, ExportMovementArgs, ExportResponsesArgs

bp = api_blueprint("export", __name__, "Analyst exports: CSV, NDJSON, XLSX and Parquet.")


def _file_responses(description: str) -> dict:
    return {
        "200": {
            "description": description,
            "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()},
        }
    }


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
    return responses_file(current_project(), args)


@bp.route("/export/metrics", methods=["GET"])
@bp.arguments(ExportMetricsArgs, location="query")
@bp.doc(responses=_file_responses("One row for the overall NPS, then one per bucket."))
def export_metrics(args):
    """The table behind `GET /metrics/nps`: counts, shares, NPS, interval and change."""
    return metrics_file(current_project(), args)


@bp.route("/export/movement", methods=["GET"])
@bp.arguments(ExportMovementArgs, location="query")
@bp.doc(responses=_file_responses("One row per flow: the 3x3 matrix, then new and lapsed."))
def export_movement(args):
    """The table behind `GET /metrics/movement`: people per (from, to) segment pair.

    Columns: `from_period`, `to_period`, `from_segment`, `to_segment`, `movement`
    (up/down/stayed/new/lapsed), `people`, `pct_of_from_segment`, and `weight` with
    `weight=property:<name>`. `series=true` gives every consecutive pair in since/until.
    """
    return movement_file(current_project(), args)
