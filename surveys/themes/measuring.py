"""Measuring a run's friction points in SQL: size, share, segments, NPS impact, revenue at risk
and trend per point, then the ranking by NPS impact. Apart from the fit (`fitting.py`), so that
the web's theme edits can measure again without loading the clustering library.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import FrictionPoint, ThemeRun
from surveys.themes.impact import nps_impact, point_stats, trend_periods
from surveys.themes.runs import RunParams


def measure_points(
    session: Session,
    run: ThemeRun,
    params: RunParams,
    points: dict[int, FrictionPoint],
    totals: tuple[int, int],
    tz_name: str,
    now: datetime,
) -> None:
    """Fill in each point's numbers from SQL, then rank by NPS impact (size breaks ties).

    `totals` is (comments of the run, respondents counted in its overall NPS).
    """
    total, respondents = totals
    periods = trend_periods(params, now, tz_name)
    stats = point_stats(session, run.id, run.project_id, params, periods)
    for point in points.values():
        s = stats.get(point.id)
        if s is None:
            point.size, point.share = 0, 0.0
            continue
        point.size = s.size
        point.share = round(s.size / total, 4)
        point.detractors = s.detractors
        point.passives = s.passives
        point.average_score = s.average_score
        point.nps_impact = nps_impact(s.counted_detractors, respondents)
        point.revenue_at_risk = s.revenue_at_risk
        point.trend = s.trend or []
        point.trend_direction = s.trend_direction
        point.trend_slope = s.trend_slope
    ranked = sorted(
        points.values(),
        key=lambda p: (p.merged_into_id is not None, -p.nps_impact, -p.size, p.cluster),
    )
    for rank, point in enumerate(ranked, start=1):
        point.rank = rank
    session.flush()


def measure_run(session: Session, run: ThemeRun, tz_name: str, now: datetime) -> None:
    """Measure a finished run's points again (after a merge moved responses between them)."""
    params = RunParams.from_json(run.params)
    counts = run.counts or {}
    points = {
        p.cluster: p
        for p in session.scalars(select(FrictionPoint).where(FrictionPoint.run_id == run.id))
    }
    totals = (int(counts.get("comments") or 0), int(counts.get("respondents") or 0))
    measure_points(session, run, params, points, totals, tz_name, now)
