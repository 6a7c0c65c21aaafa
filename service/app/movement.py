"""The movement page: the flows between segments from one period to the next, the paired NPS
change, the revenue that moved down, and the people who moved, worst drops first."""

from __future__ import annotations

from flask import render_template, request, url_for

from service.api.queries import movement_query
from service.app.page_args import MovementPageArgs, parse
from service.app.shell import bp, team
from service.db import db
from surveys.analytics.movement import movement
from surveys.analytics.movers import MoversQuery, list_movers
from surveys.catalog import list_surveys
from surveys.clock import utcnow
from surveys.loop.recovery import recovery
from surveys.segments import SEGMENTS

DEFAULT_WEIGHT = "property:mrr"
MOVERS_SHOWN = 100
SURVEYS_SHOWN = 200
# Share of a row (percent) at or above which a matrix cell takes the next darker shade.
HEAT_STEPS = (1, 20, 40, 60, 80)


def heat(pct: float | None) -> int:
    """0 (nobody) to 5 (80% or more of the row): the cell's shade class."""
    return sum(1 for step in HEAT_STEPS if (pct or 0) >= step)


def _movers_link(page: int) -> str:
    """This page with the same filters, at another page of movers."""
    return url_for("app.movement", **{**request.args.to_dict(), "movers_page": page})


@bp.get("/movement", endpoint="movement")
def movement_page():  # noqa: ANN201
    args = parse(MovementPageArgs(), request.args)
    project = team().project
    surveys = list_surveys(db(), project.id, limit=SURVEYS_SHOWN, after=None, active=None).items
    if "survey_id" not in args:
        if not surveys:
            return render_template("app/movement.html", surveys=[], report=None)
        args["survey_id"] = surveys[0].id
    args.setdefault("weight", DEFAULT_WEIGHT)
    movers_page = args.pop("movers_page")
    query = movement_query({**args, "series": False})
    now = utcnow()
    report = movement(db(), project, query, now)
    movers = list_movers(
        db(),
        project,
        MoversQuery(pair=query, movement="moved"),
        now,
        limit=MOVERS_SHOWN,
        after=None,
        worst_first_offset=(movers_page - 1) * MOVERS_SHOWN,
    )
    return render_template(
        "app/movement.html",
        surveys=surveys,
        args=args,
        report=report,
        movers=movers.items,
        movers_first=(movers_page - 1) * MOVERS_SHOWN + 1,
        movers_shown=MOVERS_SHOWN,
        movers_previous=_movers_link(movers_page - 1) if movers_page > 1 else None,
        movers_next=_movers_link(movers_page + 1) if movers.next_after is not None else None,
        segments=[s.value for s in SEGMENTS],
        heat=heat,
        sees_emails=team().sees_emails,
        recovery=recovery(db(), project, query.survey_id, query.unit, report["from"]["key"], now),
    )
