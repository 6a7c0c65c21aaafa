"""Friction points: the newest theme run's themes ranked by NPS impact, revenue at risk, size
or trend, each with its quotes, size, trend and a link to its responses; read through the same
domain function as `GET /api/v1/themes`."""

from __future__ import annotations

from flask import render_template, request
from markupsafe import Markup

from service.app import charts
from service.app.shell import bp, team
from service.db import db
from surveys.themes.reading import SORTS, list_points

SORT_LABELS = {
    "impact": "NPS impact",
    "revenue": "Revenue at risk",
    "size": "Size",
    "trend": "Trend",
}


def share_sparkline(trend: list[dict]) -> Markup:
    """A theme's share of comments per quarter as a sparkline whose title says the figures."""
    shares = [t.get("share") for t in trend]
    said = ", ".join(
        f"{t['period']}: " + ("no comments" if s is None else f"{100 * s:.0f}%")
        for t, s in zip(trend, shares, strict=True)
    )
    return charts.sparkline(shares, f"Share of comments per quarter. {said}")


@bp.get("/friction-points")
def friction_points():  # noqa: ANN201
    sort = request.args.get("sort", "impact")
    page = {"sorts": SORT_LABELS, "sort": sort}
    if sort not in SORTS:
        problem = f"Sort by one of: {', '.join(SORT_LABELS.values())}."
        return render_template("app/friction.html", problem=problem, **page), 422
    run, points = list_points(db(), team().project.id, None, sort)
    sparks = {p.id: share_sparkline(p.trend) for p in points}
    return render_template("app/friction.html", run=run, points=points, sparks=sparks, **page)
