"""Reading friction points: a run's ranked list in a chosen order, one point, its responses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.database.paging import Page, keyset_page
from surveys.errors import Conflict, Invalid, NotFound
from surveys.models import FrictionPoint, SurveyResponse, ThemeAssignment, ThemeRun
from surveys.response_context import latest_done_run_id
from surveys.themes.runs import get_run

FP = FrictionPoint
# Every order ends with the stored rank, so ties are stable.
SORTS = {
    "impact": (FP.rank,),
    "size": (FP.size.desc(), FP.rank),
    "revenue": (FP.revenue_at_risk.desc().nulls_last(), FP.rank),
    "trend": (FP.trend_slope.desc().nulls_last(), FP.rank),
}


def resolve_run(session: Session, project_id: int, run_id: int | None) -> ThemeRun | None:
    """The asked run (which must be done), else the project's newest done run, else None."""
    if run_id is None:
        latest = latest_done_run_id(session, project_id)
        return session.get(ThemeRun, latest) if latest is not None else None
    run = get_run(session, project_id, run_id)
    if run.status != "done":
        raise Conflict(
            f"theme run {run_id} is {run.status}; its themes appear when it is done",
            {"run_id": run_id, "status": run.status},
        )
    return run


def list_points(
    session: Session,
    project_id: int,
    run_id: int | None,
    sort: str = "impact",
    *,
    hidden: bool = False,
) -> tuple[ThemeRun | None, list[FrictionPoint]]:
    """A run's points in `sort` order; hidden ones (and those merged away) only with
    `hidden`."""
    if sort not in SORTS:
        raise Invalid(f"unknown sort {sort!r}", {"sort": [f"one of {', '.join(SORTS)}"]})
    run = resolve_run(session, project_id, run_id)
    if run is None:
        return None, []
    stmt = select(FP).where(FP.run_id == run.id)
    if not hidden:
        stmt = stmt.where(FP.hidden.is_(False))
    points = session.scalars(stmt.order_by(*SORTS[sort])).all()
    return run, list(points)


def get_point(session: Session, project_id: int, point_id: int) -> FrictionPoint:
    point = session.get(FrictionPoint, point_id)
    if point is None or point.project_id != project_id:
        raise NotFound(f"theme {point_id} not found")
    return point


def point_responses(
    session: Session, project_id: int, point_id: int, *, limit: int, after: int | None
) -> Page[SurveyResponse]:
    """The responses assigned to a theme, oldest first (keyset pages)."""
    point = get_point(session, project_id, point_id)
    stmt = (
        select(SurveyResponse)
        .join(ThemeAssignment, ThemeAssignment.response_id == SurveyResponse.id)
        .where(
            ThemeAssignment.run_id == point.run_id,
            ThemeAssignment.friction_point_id == point.id,
            SurveyResponse.project_id == project_id,
        )
    )
    return keyset_page(session, stmt, SurveyResponse.id, limit=limit, after=after)
