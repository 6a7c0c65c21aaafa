"""Friction points: the newest theme run's themes ranked by NPS impact, revenue at risk, size
or trend, each with its quotes, size, trend and a link to its responses; read through the same
domain function as `GET /api/v1/themes`."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup

from service.app import charts
from service.app.shell import bp, team
from service.db import db
from surveys.accounts.roles import Role
from surveys.clock import utcnow
from surveys.errors import Invalid
from surveys.themes import edits
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
    role = team().role
    return render_template(
        "app/friction.html",
        run=run,
        points=points,
        sparks=sparks,
        can_edit=role is not None and role.at_least(Role.EDITOR),
        **page,
    )


def _edited(message: str):  # noqa: ANN202
    db().commit()
    flash(message, "success")
    return redirect(url_for("app.friction_points"))


@bp.post("/friction-points/<int:point_id>/label", endpoint="edit_theme")
def edit_theme(point_id: int):  # noqa: ANN201
    try:
        point = edits.rename(
            db(), team().project.id, point_id, request.form.get("label", ""), utcnow()
        )
    except Invalid as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
        return redirect(url_for("app.friction_points"))
    return _edited(f"Renamed to “{point.label}”.")


@bp.post("/friction-points/<int:point_id>/hide", endpoint="hide_theme")
def hide_theme(point_id: int):  # noqa: ANN201
    point = edits.set_hidden(db(), team().project.id, point_id, True, utcnow())
    return _edited(f"“{point.label}” is hidden.")


@bp.post("/friction-points/<int:point_id>/merge", endpoint="merge_theme")
def merge_theme(point_id: int):  # noqa: ANN201
    other = request.form.get("theme_id", "")
    if not other.isdigit():
        flash("Choose the theme to merge.", "error")
        return redirect(url_for("app.friction_points"))
    point = edits.merge(db(), team().project.id, point_id, int(other), utcnow())
    return _edited(f"Merged into “{point.label}”.")
