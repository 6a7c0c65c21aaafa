"""The digest's figures for one project and period, read through the analytics and themes
functions the API and the team app call: no figure is computed a second time here.

NPS and its band per week or month come from `nps_metrics` (the `GET /metrics/nps` answer),
the response rate from the survey's invitation counts, movement, its paired change and the
revenue that moved down from `movement`, the people to call back from `list_movers`, and the
friction points from `list_points`. Movement is read between the last two complete quarters:
people answer once per survey cycle (quarterly by default), so weeks would pair nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from surveys.analytics.metrics import MetricsQuery, nps_metrics
from surveys.analytics.movement import MovementQuery, movement
from surveys.analytics.movers import MoversQuery, list_movers
from surveys.catalog import list_surveys
from surveys.email.rates import rates_by_period
from surveys.loop.digest_subscriptions import unit_of
from surveys.models import FrictionPoint, Project
from surveys.periods import Period, previous_period
from surveys.response_filters import ResponseFilters
from surveys.themes.reading import list_points

TREND_PERIODS = 8
MOVEMENT_UNIT = "quarter"
REVENUE_PROPERTY = "property:mrr"
MOVERS_SHOWN = 10
TOP_POINTS = 3


@dataclass(frozen=True)
class TrendPoint:
    label: str
    nps: float | None
    low: float | None
    high: float | None
    significant: bool = False


@dataclass(frozen=True)
class MoverLine:
    """One person who moved down: who, from which segment to which, and what they said."""

    person_id: int
    name: str | None
    email: str | None
    external_id: str | None
    from_segment: str | None
    to_segment: str | None
    score: int | None
    comment: str | None


@dataclass(frozen=True)
class PointLine:
    label: str
    size: int
    share: float
    nps_impact: float
    revenue_at_risk: float | None
    trend_direction: str | None
    trend_slope: float | None


@dataclass
class Digest:
    project_id: int
    project_name: str
    cadence: str
    unit: str
    period: Period
    previous_label: str
    # The period's bucket of `GET /metrics/nps?group_by=<unit>` (None: no answers in it).
    nps: dict[str, Any] | None
    trend: list[TrendPoint]
    survey_name: str | None = None
    response_rate: float | None = None
    invitations_sent: int = 0
    movement: dict[str, Any] | None = None
    movers_down: list[MoverLine] = field(default_factory=list)
    more_movers_down: bool = False
    top_points: list[PointLine] = field(default_factory=list)
    growing_point: PointLine | None = None
    revenue_at_risk: float | None = None

    @property
    def change(self) -> dict[str, Any] | None:
        return self.nps["change"] if self.nps else None


def _point(p: FrictionPoint) -> PointLine:
    return PointLine(
        label=p.label,
        size=p.size,
        share=p.share,
        nps_impact=p.nps_impact,
        revenue_at_risk=p.revenue_at_risk,
        trend_direction=p.trend_direction,
        trend_slope=p.trend_slope,
    )


def trend_since(period: Period, unit: str, time_zone: str) -> Period:
    """The first period of the trend that ends with `period`."""
    first = period
    for _ in range(TREND_PERIODS - 1):
        first = previous_period(first, unit, time_zone)
    return first


def nps_query(period: Period, unit: str, time_zone: str) -> MetricsQuery:
    """The metrics query behind the digest's NPS, as an API caller would send it."""
    first = trend_since(period, unit, time_zone)
    return MetricsQuery(filters=ResponseFilters(since=first.start, until=period.end), group_by=unit)


def _nps(session: Session, project: Project, period: Period, unit: str) -> tuple[Any, Any]:
    metrics = nps_metrics(session, project, nps_query(period, unit, project.time_zone))
    buckets = metrics["buckets"]
    trend = [
        TrendPoint(
            label=b["key"],
            nps=b["nps"],
            low=b["ci_low"],
            high=b["ci_high"],
            significant=bool(b["change"] and b["change"]["significant"]),
        )
        for b in buckets
    ]
    current = next((b for b in buckets if b["key"] == period.label), None)
    return current, trend


def _movement(session: Session, project: Project, survey_id: int, at: datetime) -> Any:
    query = MovementQuery(survey_id=survey_id, unit=MOVEMENT_UNIT, weight_property=REVENUE_PROPERTY)
    report = movement(session, project, query, at)
    totals = report["totals"]
    summary = {
        "from": report["from"]["key"],
        "to": report["to"]["key"],
        "up": totals["moved_up"],
        "down": totals["moved_down"],
        "stayed": totals["stayed"],
        "new": totals["new"],
        "lapsed": totals["lapsed"],
        "repeat_nps": report["repeat_nps"],
    }
    weighted = report["weighted"] or {}
    revenue = weighted.get("revenue_at_risk", {}).get("total")
    page = list_movers(
        session,
        project,
        MoversQuery(pair=query, movement="down"),
        at,
        limit=MOVERS_SHOWN,
        after=None,
        # Promoters who became detractors first, sorted by the database across every mover:
        # the call backs that matter most.
        worst_first_offset=0,
    )
    lines = [
        MoverLine(
            person_id=m.person.id,
            name=m.person.name,
            email=m.person.email,
            external_id=m.person.external_id,
            from_segment=m.from_segment,
            to_segment=m.to_segment,
            score=m.to_response.score if m.to_response else None,
            comment=m.to_response.comment if m.to_response else None,
        )
        for m in page.items
    ]
    return summary, revenue, lines, page.next_after is not None


def build_digest(session: Session, project: Project, cadence: str, period: Period) -> Digest:
    """Every figure of one project's digest for one complete week or month."""
    unit = unit_of(cadence)
    current, trend = _nps(session, project, period, unit)
    digest = Digest(
        project_id=project.id,
        project_name=project.name,
        cadence=cadence,
        unit=unit,
        period=period,
        previous_label=previous_period(period, unit, project.time_zone).label,
        nps=current,
        trend=trend,
    )
    # The movement page's default survey: the project's first.
    surveys = list_surveys(session, project.id, limit=1, after=None, active=None).items
    if surveys:
        survey = surveys[0]
        digest.survey_name = survey.name
        # The response rate of the invitations sent in the covered week or month.
        (rate,) = rates_by_period(session, project.id, [period], survey.id)
        digest.response_rate, digest.invitations_sent = rate.rate, rate.sent
        # Movement as of the end of the covered period: the same digest whenever it is built.
        summary, revenue, movers, more = _movement(session, project, survey.id, period.end)
        digest.movement, digest.revenue_at_risk = summary, revenue
        digest.movers_down, digest.more_movers_down = movers, more
    _, points = list_points(session, project.id, None, "impact")
    digest.top_points = [_point(p) for p in points[:TOP_POINTS]]
    growing = [p for p in points if p.trend_direction == "growing" and p.trend_slope]
    if growing:
        digest.growing_point = _point(max(growing, key=lambda p: p.trend_slope or 0.0))
    return digest
