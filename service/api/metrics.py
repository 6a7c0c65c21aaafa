"""NPS metrics with margins of error, grouped by period, channel, locale or property."""

from service.api.base import api_blueprint
from service.api.queries import metrics_query
from service.auth import current_project
from service.db import db
from service.schemas.metrics import NPS_DESCRIPTION, MetricsArgs, MetricsSchema
from surveys.analytics.metrics import nps_metrics

bp = api_blueprint("metrics", __name__, "NPS and its margin of error.")


@bp.route("/metrics/nps", methods=["GET"])
@bp.arguments(MetricsArgs, location="query")
@bp.response(200, MetricsSchema)
@bp.doc(description=NPS_DESCRIPTION)
def nps(args):
    """NPS with its 95% margin of error, overall and per bucket."""
    return nps_metrics(db(), current_project(), metrics_query(args))
