"""What each friction point of a run costs, by SQL over its stored assignments.

Definitions (also in docs/themes.md):

- size: the theme's comments; share: size / all comments of the run (0–1).
- detractors, passives: distinct people with a detractor (0–6) / passive (7–8) comment in
  the theme; average_score: mean score of its scored comments.
- NPS impact: with N the people counted in the overall NPS of the run's survey and date range
  (each person once, with their latest non-excluded scored answer, as `/metrics/nps` counts
  them) and D the people whose counted answer is a detractor answer in this theme,
  impact = 100 · D / N: the points NPS would rise if those detractors were passives (their
  detractor share vanishes, the promoter share is unchanged). Each counted answer has one
  comment and so at most one theme: impacts add up, to at most the detractor share.
- revenue at risk: the sum of a numeric property (default `mrr`) over the theme's people, each
  person once, from the snapshot on their latest comment in the theme; null when none has it.
- trend: the theme's share of the run's comments in each of the last four quarters (project
  time zone); the direction comes from the least-squares slope of that share in percentage
  points per quarter: growing at +1 or more, shrinking at −1 or less, else stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from surveys.models import SurveyResponse, ThemeAssignment
from surveys.period_answers import period_case
from surveys.periods import Period, period_of, previous_period
from surveys.property_refs import numeric_property
from surveys.segments import Segment, in_segment
from surveys.themes.runs import RunParams
from surveys.themes.scope import respondent_conditions

TREND_QUARTERS = 4
# Percentage points of share per quarter: below this a theme is "stable".
TREND_THRESHOLD = 1.0


@dataclass(frozen=True)
class Overall:
    respondents: int
    promoters: int
    detractors: int

    @property
    def nps(self) -> float | None:
        if not self.respondents:
            return None
        return round(100.0 * (self.promoters - self.detractors) / self.respondents, 2)


@dataclass
class PointStats:
    size: int = 0
    detractors: int = 0
    passives: int = 0
    average_score: float | None = None
    counted_detractors: int = 0
    revenue_at_risk: float | None = None
    trend: list[dict[str, Any]] | None = None
    trend_direction: str | None = None
    trend_slope: float | None = None


def nps_impact(counted_detractors: int, respondents: int) -> float:
    """100 · D / N, in NPS points (0 with nobody counted)."""
    if respondents <= 0:
        return 0.0
    return round(100.0 * counted_detractors / respondents, 2)


def trend_direction(
    shares: list[float | None], threshold: float = TREND_THRESHOLD
) -> tuple[str | None, float | None]:
    """(growing | shrinking | stable, slope) from shares (0–1); the slope is in percentage
    points per quarter.

    Quarters without any comment carry no information and are skipped; fewer than two
    informative quarters give (None, None).
    """
    points = [(float(i), 100.0 * s) for i, s in enumerate(shares) if s is not None]
    if len(points) < 2:
        return None, None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    slope = round(slope, 3)
    if slope >= threshold:
        return "growing", slope
    if slope <= -threshold:
        return "shrinking", slope
    return "stable", slope


def trend_periods(params: RunParams, now: datetime, tz_name: str) -> list[Period]:
    """The last quarters up to the one holding the run's end (`until`, else now), oldest first."""
    end = params.until - timedelta(microseconds=1) if params.until else now
    current = period_of(end, "quarter", tz_name)
    out = [current]
    for _ in range(TREND_QUARTERS - 1):
        out.append(previous_period(out[-1], "quarter", tz_name))
    return list(reversed(out))


def overall(session: Session, project_id: int, params: RunParams) -> Overall:
    counted = _counted(project_id, params)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((in_segment(counted.c.score, Segment.PROMOTER), 1), else_=0)), 0
            ),
            func.coalesce(
                func.sum(case((in_segment(counted.c.score, Segment.DETRACTOR), 1), else_=0)), 0
            ),
        ).where(counted.c.rn == 1)
    ).one()
    return Overall(int(row[0]), int(row[1]), int(row[2]))


def _counted(project_id: int, params: RunParams):
    r = SurveyResponse
    return (
        select(
            r.id,
            r.score,
            func.row_number()
            .over(partition_by=r.person_id, order_by=(r.created_at.desc(), r.id.desc()))
            .label("rn"),
        )
        .where(*respondent_conditions(project_id, params))
        .subquery()
    )


def point_stats(
    session: Session,
    run_id: int,
    project_id: int,
    params: RunParams,
    periods: list[Period],
) -> dict[int, PointStats]:
    """Statistics of every friction point of a run, keyed by friction point id."""
    a, r = ThemeAssignment, SurveyResponse
    of_run = [a.run_id == run_id, a.friction_point_id.is_not(None)]
    stats: dict[int, PointStats] = {}
    base = session.execute(
        select(
            a.friction_point_id,
            func.count(),
            func.count(distinct(case((in_segment(r.score, Segment.DETRACTOR), r.person_id)))),
            func.count(distinct(case((in_segment(r.score, Segment.PASSIVE), r.person_id)))),
            func.avg(r.score),
        )
        .join(r, r.id == a.response_id)
        .where(*of_run)
        .group_by(a.friction_point_id)
    )
    for point_id, size, detractors, passives, average in base:
        stats[point_id] = PointStats(
            size=int(size),
            detractors=int(detractors),
            passives=int(passives),
            average_score=round(float(average), 2) if average is not None else None,
        )

    counted = _counted(project_id, params)
    detractor_rows = session.execute(
        select(a.friction_point_id, func.count())
        .join(counted, counted.c.id == a.response_id)
        .where(*of_run, counted.c.rn == 1, in_segment(counted.c.score, Segment.DETRACTOR))
        .group_by(a.friction_point_id)
    )
    for point_id, count in detractor_rows:
        stats[point_id].counted_detractors = int(count)

    latest = (
        select(
            a.friction_point_id.label("point_id"),
            numeric_property(session, params.revenue_property, "revenue_property").label("value"),
            func.row_number()
            .over(
                partition_by=(a.friction_point_id, r.person_id),
                order_by=(r.created_at.desc(), r.id.desc()),
            )
            .label("rn"),
        )
        .join(r, r.id == a.response_id)
        .where(*of_run)
        .subquery()
    )
    revenue_rows = session.execute(
        select(latest.c.point_id, func.sum(latest.c.value))
        .where(latest.c.rn == 1)
        .group_by(latest.c.point_id)
    )
    for point_id, total in revenue_rows:
        stats[point_id].revenue_at_risk = round(float(total), 2) if total is not None else None

    _add_trends(session, run_id, periods, stats)
    return stats


def _add_trends(
    session: Session, run_id: int, periods: list[Period], stats: dict[int, PointStats]
) -> None:
    a, r = ThemeAssignment, SurveyResponse
    bucket = period_case(periods, list(range(len(periods))))
    # Bucketed in a subquery: PostgreSQL will not group by an expression holding parameters.
    inner = (
        select(a.friction_point_id.label("point_id"), bucket.label("bucket"))
        .join(r, r.id == a.response_id)
        .where(a.run_id == run_id)
        .subquery()
    )
    rows = session.execute(
        select(inner.c.point_id, inner.c.bucket, func.count())
        .where(inner.c.bucket.is_not(None))
        .group_by(inner.c.point_id, inner.c.bucket)
    ).all()
    totals = [0] * len(periods)
    per_point: dict[int, list[int]] = {pid: [0] * len(periods) for pid in stats}
    for point_id, index, count in rows:
        totals[int(index)] += int(count)
        if point_id is not None and point_id in per_point:
            per_point[point_id][int(index)] = int(count)
    for point_id, counts in per_point.items():
        shares = [c / t if t else None for c, t in zip(counts, totals, strict=True)]
        stats[point_id].trend = [
            {
                "period": p.label,
                "comments": c,
                "all_comments": t,
                "share": round(s, 4) if s is not None else None,
            }
            for p, c, t, s in zip(periods, counts, totals, shares, strict=True)
        ]
        direction, slope = trend_direction(shares)
        stats[point_id].trend_direction = direction
        stats[point_id].trend_slope = slope
