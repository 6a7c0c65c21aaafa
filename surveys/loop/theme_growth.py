"""Friction points whose share of comments grew significantly from one quarter to the next.

A theme's share in a period is the number of that period's comments the newest finished run
put in it, over all the period's comments the run placed (in a theme or unassigned). Growth is
tested with a one-sided two-proportion z-test on the pooled proportion:

    z = (p1 - p0) / sqrt(p (1 - p) (1/n1 + 1/n0)),  p = (x1 + x0) / (n1 + n0)

and is significant when the p-value P(Z >= z) is below `ALPHA` and the current period holds
at least `MIN_COUNT` of the theme's comments (the normal approximation needs a few).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from scipy.stats import norm
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from surveys.models import FrictionPoint, SurveyResponse, ThemeAssignment, ThemeRun
from surveys.periods import Period, period_of, previous_period

ALPHA = 0.05
MIN_COUNT = 5


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float


@dataclass(frozen=True)
class Growth:
    point_id: int
    label: str
    period: str
    previous_period: str
    count: int
    total: int
    previous_count: int
    previous_total: int
    z: float
    p_value: float

    @property
    def share(self) -> float:
        return self.count / self.total

    @property
    def previous_share(self) -> float:
        return self.previous_count / self.previous_total


def two_proportion_z(x1: int, n1: int, x0: int, n0: int) -> ZTest:
    """One-sided test that x1/n1 is larger than x0/n0 (pooled standard error)."""
    if n1 <= 0 or n0 <= 0:
        return ZTest(0.0, 1.0)
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if se == 0:
        return ZTest(0.0, 1.0)
    z = (x1 / n1 - x0 / n0) / se
    return ZTest(z, float(norm.sf(z)))


def latest_done_run(session: Session, project_id: int) -> ThemeRun | None:
    return session.scalar(
        select(ThemeRun)
        .where(ThemeRun.project_id == project_id, ThemeRun.status == "done")
        .order_by(ThemeRun.id.desc())
        .limit(1)
    )


def growing_points(session: Session, run: ThemeRun, time_zone: str, now: datetime) -> list[Growth]:
    """The run's friction points whose share grew significantly from the previous quarter to
    the present one."""
    current = period_of(now, "quarter", time_zone)
    previous = previous_period(current, "quarter", time_zone)
    totals = _counts(session, run, current, previous, by_point=False)
    n1, n0 = totals.get(None, (0, 0))
    if n1 == 0 or n0 == 0:
        return []
    found = []
    for (point_id, label), (x1, x0) in _counts(session, run, current, previous).items():
        if x1 < MIN_COUNT:
            continue
        test = two_proportion_z(x1, n1, x0, n0)
        if test.p_value < ALPHA and x1 / n1 > x0 / n0:
            found.append(
                Growth(
                    point_id,
                    label,
                    current.label,
                    previous.label,
                    x1,
                    n1,
                    x0,
                    n0,
                    test.z,
                    test.p_value,
                )
            )
    return found


def _counts(
    session: Session, run: ThemeRun, current: Period, previous: Period, *, by_point: bool = True
) -> dict:
    """Comments per period (current, previous), per friction point or in all."""
    r, a = SurveyResponse, ThemeAssignment
    in_current = func.sum(case((r.created_at >= current.start, 1), else_=0))
    in_previous = func.sum(case((r.created_at < previous.end, 1), else_=0))
    window = (a.run_id == run.id, r.created_at >= previous.start, r.created_at < current.end)
    if not by_point:
        row = session.execute(
            select(in_current, in_previous)
            .select_from(a)
            .join(r, r.id == a.response_id)
            .where(*window)
        ).one()
        return {None: (int(row[0] or 0), int(row[1] or 0))}
    fp = FrictionPoint
    rows = session.execute(
        select(fp.id, fp.label, in_current, in_previous)
        .select_from(a)
        .join(r, r.id == a.response_id)
        .join(fp, fp.id == a.friction_point_id)
        .where(*window)
        .group_by(fp.id, fp.label)
        .order_by(fp.id)
    ).all()
    return {(row[0], row[1]): (int(row[2] or 0), int(row[3] or 0)) for row in rows}
