"""Query arguments to domain queries: one translation per query, shared by every view that
reads the same arguments (the figures and their exports)."""

from __future__ import annotations

from surveys.analytics.metrics import MetricsQuery
from surveys.analytics.movement import MovementQuery
from surveys.analytics.movers import MoversQuery
from surveys.clock import utcnow
from surveys.response_filters import ResponseFilters
from surveys.segments import Segment


def response_filters(args: dict) -> ResponseFilters:
    """The filters of `ResponseListArgs`; `GET /export/responses` reads the same arguments."""
    return ResponseFilters(
        survey_id=args.get("survey_id"),
        since=args.get("since"),
        until=args.get("until"),
        segment=Segment(args["segment"]) if args.get("segment") else None,
        person_id=args.get("person_id"),
        channel=args.get("channel"),
        updated_since=args.get("updated_since"),
        text=args.get("q"),
        theme_id=args.get("theme_id"),
        property_name=args.get("property"),
        property_value=args.get("property_value"),
        **triage_filters(args),
    )


def triage_filters(args: dict) -> dict:
    """The triage filters (tag, follow-up status, owner, overdue) that lists, metrics and
    exports share."""
    return {
        "tag_id": args.get("tag_id"),
        "follow_up_status": args.get("status"),
        "owner_email": args.get("owner"),
        "overdue_at": utcnow() if args.get("overdue") else None,
    }


def metrics_query(args: dict) -> MetricsQuery:
    """The query of `MetricsArgs`; `GET /export/metrics` reads the same arguments."""
    return MetricsQuery(
        filters=ResponseFilters(
            survey_id=args.get("survey_id"),
            since=args.get("since"),
            until=args.get("until"),
            channel=args.get("channel"),
            property_name=args.get("property"),
            property_value=args.get("property_value"),
            **triage_filters(args),
        ),
        group_by=args.get("group_by"),
        weight_property=args.get("weight"),
        count_all=args["count"] == "all",
    )


def _pair_query(args: dict, **extra) -> MovementQuery:
    return MovementQuery(
        survey_id=args["survey_id"],
        unit=args["period"],
        from_label=args.get("from_"),
        to_label=args.get("to"),
        **extra,
    )


def movement_query(args: dict) -> MovementQuery:
    """The query of `MovementArgs`; `GET /export/movement` reads the same arguments."""
    return _pair_query(
        args,
        weight_property=args.get("weight"),
        series=args["series"],
        since=args.get("since"),
        until=args.get("until"),
    )


def movers_query(args: dict) -> MoversQuery:
    """The query of `MoversArgs`: one pair of periods and the segments and movement wanted."""
    return MoversQuery(
        pair=_pair_query(args),
        from_segment=args.get("from_segment"),
        to_segment=args.get("to_segment"),
        movement=args.get("movement"),
    )
