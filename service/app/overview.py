"""The overview: the project's NPS per period with its band, shares and score histogram, under
GET filters; the figures come from the same domain functions as `GET /api/v1/metrics/nps`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import render_template, request
from marshmallow import ValidationError, fields, validate

from service.app import charts
from service.app.shell import bp, team
from service.db import db
from service.errors import status_of
from service.schemas.common import PropertyFilterArgs, id_field
from surveys.analytics.metrics import MetricsQuery, nps_metrics, score_histogram
from surveys.answers import RESPONSE_CHANNELS
from surveys.catalog import list_surveys
from surveys.clock import to_naive_utc
from surveys.email.rates import rates_by_period
from surveys.errors import DomainError
from surveys.models import Project
from surveys.periods import Period, zone
from surveys.property_refs import PREFIX
from surveys.response_filters import ResponseFilters

UNITS = ("quarter", "month", "week")
MAX_SURVEYS = 200


class OverviewArgs(PropertyFilterArgs):
    """The overview's filter form (a GET form: empty fields are left out before loading)."""

    survey = id_field()
    channel = fields.String(validate=validate.OneOf(RESPONSE_CHANNELS))
    since = fields.Date()
    until = fields.Date()
    by = fields.String(load_default="quarter", validate=validate.OneOf(UNITS))
    period = fields.String(validate=validate.Length(max=20))
    weight = fields.String(validate=validate.Length(max=100))
    compare = fields.String(validate=validate.Length(max=100))


def _midnight(day: date, project: Project) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone(project.time_zone))


def metrics_query(
    args: dict[str, Any], project: Project, group_by: str | None, *, overall: bool = True
) -> MetricsQuery:
    """The form's filters as the API's query: dates are whole days in the project's time zone,
    `until` included. The page shows periods, not the overall figure (`overall=False`)."""
    until = args.get("until")
    return MetricsQuery(
        overall=overall,
        filters=ResponseFilters(
            survey_id=args.get("survey"),
            since=_midnight(args["since"], project) if args.get("since") else None,
            until=_midnight(until + timedelta(days=1), project) if until else None,
            channel=args.get("channel"),
            property_name=args.get("property"),
            property_value=args.get("property_value"),
        ),
        group_by=group_by,
        weight_property=PREFIX + args["weight"] if args.get("weight") else None,
    )


def _selected(buckets: list[dict[str, Any]], label: str | None) -> dict[str, Any] | None:
    if not buckets:
        return None
    if label is None:
        return buckets[-1]
    found = next((b for b in buckets if b["key"] == label), None)
    if found is None:
        raise ValidationError({"period": [f"{label} is not a period in the chosen range"]})
    return found


def _figures(project: Project, args: dict[str, Any]) -> dict[str, Any]:
    metrics = nps_metrics(db(), project, metrics_query(args, project, args["by"], overall=False))
    buckets = metrics["buckets"]
    query = metrics_query(args, project, None)
    compare = None
    if args.get("compare"):
        compare = nps_metrics(
            db(), project, metrics_query(args, project, PREFIX + args["compare"])
        )["buckets"]
    points = [
        charts.TrendPoint(
            label=b["key"],
            nps=b["nps"],
            low=b["ci_low"],
            high=b["ci_high"],
            change=b["change"]["change"] if b["change"] else None,
            significant=bool(b["change"] and b["change"]["significant"]),
        )
        for b in buckets
    ]
    selected = _selected(buckets, args.get("period"))
    histogram = score_histogram(db(), project, _period_filters(query.filters, selected))
    periods = [Period(b["key"], to_naive_utc(b["start"]), to_naive_utc(b["end"])) for b in buckets]
    rates = {
        r.key: r for r in rates_by_period(db(), project.id, periods, survey_id=args.get("survey"))
    }
    return {
        "metrics": metrics,
        "selected": selected,
        "trend_chart": charts.nps_trend(points, "NPS per " + args["by"]),
        "histogram": histogram,
        "histogram_chart": charts.score_histogram(histogram),
        "compare": compare,
        "rates": rates,
        "selected_rate": rates.get(selected["key"]) if selected else None,
    }


def _period_filters(filters: ResponseFilters, bucket: dict[str, Any] | None) -> ResponseFilters:
    """The filters narrowed to the selected period (the histogram is the period's)."""
    if bucket is None:
        return filters
    start, end = to_naive_utc(bucket["start"]), to_naive_utc(bucket["end"])
    since = max(to_naive_utc(filters.since), start) if filters.since else start
    until = min(to_naive_utc(filters.until), end) if filters.until else end
    return replace(filters, since=since, until=until)


@bp.get("/")
def overview():  # noqa: ANN201
    project = team().project
    surveys = list_surveys(db(), project.id, limit=MAX_SURVEYS, after=None, active=None).items
    form = {k: v for k, v in request.args.items() if v.strip()}
    page = {"project": project, "surveys": surveys, "channels": RESPONSE_CHANNELS, "form": form}
    try:
        args = OverviewArgs().load(form)
        return render_template("app/overview.html", args=args, **page, **_figures(project, args))
    except ValidationError as exc:
        problems = [f"{name}: {' '.join(msgs)}" for name, msgs in exc.normalized_messages().items()]
        return render_template("app/overview.html", problems=problems, **page), 422
    except DomainError as exc:
        return render_template("app/overview.html", problems=[exc.message], **page), status_of(exc)
