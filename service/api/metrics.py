"""NPS metrics with margins of error, grouped by period, channel, locale or property."""

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.schemas.metrics import NPS_DESCRIPTION, MetricsArgs, MetricsSchema
from surveys.analytics.metrics import MetricsQuery, nps_metrics
from surveys.response_filters import ResponseFilters

bp = api_blueprint("metrics", __name__, "NPS and its margin of error.")


def metrics_query(args: dict) -> MetricsQuery:
    """The query of `MetricsArgs`; `GET /export/metrics` reads the same arguments."""
    return MetricsQuery(
        filters=ResponseFilters(
            survey_id=args.get("survey_id"),
            since=args.get("since"),
            until=args.get("until"),
            channel=args.get("channel"),
        ),
        group_by=args.get("group_by"),
        weight_property=args.get("weight"),
        count_all=args["count"] == "all",
    )


@bp.route("/metrics/nps", methods=["GET"])
@bp.arguments(MetricsArgs, location="query")
@bp.response(200, MetricsSchema)
@bp.doc(description=NPS_DESCRIPTION)
def nps(args):
    """NPS with its 95% margin of error, overall and per bucket."""
    return nps_metrics(db(), current_project(), metrics_query(args))
