"""NPS metrics by SQL aggregation: buckets by period, channel, locale or property.

A person counts once per bucket, with their latest non-excluded scored answer in that bucket
(ROW_NUMBER over person and bucket); `count_all` counts every answer instead. Responses
without a score count in no NPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from surveys.analytics import period_metrics
from surveys.analytics.statistics import (
    NpsEstimate,
    effective_sample_size,
    nps_change,
    nps_estimate,
)
from surveys.catalog import get_survey
from surveys.errors import Invalid
from surveys.models import Project, SurveyResponse
from surveys.period_answers import period_case
from surveys.periods import UNITS, Period, periods_between
from surveys.property_refs import parse_property_ref, weight_of
from surveys.response_filters import ResponseFilters, response_conditions
from surveys.segments import Segment, in_segment

GROUPS = ("quarter", "month", "week", "channel", "locale")
MAX_PERIODS = 1000


@dataclass(frozen=True)
class MetricsQuery:
    filters: ResponseFilters
    group_by: str | None = None
    weight_property: str | None = None
    count_all: bool = False
    # False: the caller reads only the buckets (the overview), so the overall figure, the
    # one part that grows with the people, may be left out (`overall` is then None).
    overall: bool = True


def _scored_conditions(project_id: int, f: ResponseFilters) -> list[ColumnElement[bool]]:
    return [
        *response_conditions(project_id, f),
        SurveyResponse.score.is_not(None),
        SurveyResponse.excluded.is_(False),
    ]


def _periods(
    session: Session, project: Project, conds: list[ColumnElement[bool]], unit: str
) -> list[Period]:
    first, last = session.execute(
        select(func.min(SurveyResponse.created_at), func.max(SurveyResponse.created_at)).where(
            *conds
        )
    ).one()
    if first is None:
        return []
    periods = periods_between(first, last, unit, project.time_zone)
    if len(periods) > MAX_PERIODS:
        raise Invalid(
            f"too many {unit} buckets ({len(periods)}); narrow since/until",
            {"group_by": [f"at most {MAX_PERIODS} buckets"]},
        )
    return periods


def _bucket_expression(group: str | None, periods: list[Period]) -> ColumnElement[Any]:
    r = SurveyResponse
    if group is None:
        return literal("all")
    if group in UNITS:
        return period_case(periods, list(range(len(periods))))
    if group == "channel":
        return r.channel
    if group == "locale":
        return func.coalesce(r.locale, "")
    return r.properties[parse_property_ref(group, "group_by")].as_string()


def _aggregate(
    session: Session,
    conds: list[ColumnElement[bool]],
    bucket: ColumnElement[Any],
    weight: ColumnElement[Any] | None,
    count_all: bool,
) -> dict[Any, dict[str, float]]:
    r = SurveyResponse
    cols = [bucket.label("bucket"), r.score.label("score")]
    if weight is not None:
        cols.append(weight.label("weight"))
        conds = [*conds, weight.is_not(None)]
    if not count_all:
        cols.append(
            func.row_number()
            .over(partition_by=(bucket, r.person_id), order_by=(r.created_at.desc(), r.id.desc()))
            .label("rn")
        )
    inner = select(*cols).where(*conds).subquery()
    w = inner.c.weight if weight is not None else None
    aggregates = [agg.label(name) for name, agg in _segment_sums(inner.c.score, w)]
    stmt = select(inner.c.bucket, *aggregates).group_by(inner.c.bucket)
    if not count_all:
        stmt = stmt.where(inner.c.rn == 1)
    return {row.bucket: row._asdict() for row in session.execute(stmt)}


def _segment_sums(
    score: ColumnElement[Any],
    weight: ColumnElement[Any] | None,
    counted: ColumnElement[bool] | None = None,
) -> list[tuple[str, ColumnElement[Any]]]:
    """(name, SUM) pairs of the segment counts (and weights) over the `counted` rows (all
    rows when None)."""
    out: list[tuple[str, ColumnElement[Any]]] = []
    segments = {
        "promoters": in_segment(score, Segment.PROMOTER),
        "passives": in_segment(score, Segment.PASSIVE),
        "detractors": in_segment(score, Segment.DETRACTOR),
    }
    for name, cond in segments.items():
        if counted is not None:
            cond = and_(counted, cond)
        out.append((name, func.sum(case((cond, 1), else_=0))))
        if weight is not None:
            out.append((f"w_{name}", func.sum(case((cond, weight), else_=0.0))))
    if weight is not None:
        squared = weight * weight
        if counted is not None:
            squared = case((counted, squared), else_=0.0)
        out.append(("w2", func.sum(squared)))
    return out


def _aggregate_in_time(
    session: Session,
    conds: list[ColumnElement[bool]],
    unit: str,
    periods: list[Period],
    weight: ColumnElement[Any] | None,
) -> tuple[dict[str, float], dict[Any, dict[str, float]]]:
    """Overall and per-period person counts from one window pass (one sort instead of two).

    Each person's answers newest first: the first is their latest overall (ROW_NUMBER = 1),
    and, periods being contiguous in time, an answer is their latest in its period when the
    answer just after it (LAG) lies in another period or there is none. The same rows as a
    ROW_NUMBER per (period, person), without a second window and scan.
    """
    r = SurveyResponse
    bucket = _bucket_expression(unit, periods)
    newest_first = {"partition_by": r.person_id, "order_by": (r.created_at.desc(), r.id.desc())}
    cols = [
        bucket.label("bucket"),
        r.score.label("score"),
        func.row_number().over(**newest_first).label("rn"),
        func.lag(bucket).over(**newest_first).label("later_bucket"),
    ]
    if weight is not None:
        cols.append(weight.label("weight"))
        conds = [*conds, weight.is_not(None)]
    inner = select(*cols).where(*conds).subquery()
    c = inner.c
    w = c.weight if weight is not None else None
    in_bucket = or_(c.later_bucket.is_(None), c.later_bucket != c.bucket)
    overall = c.rn == 1
    sums = [agg.label(f"b_{name}") for name, agg in _segment_sums(c.score, w, in_bucket)]
    sums += [agg.label(f"o_{name}") for name, agg in _segment_sums(c.score, w, overall)]
    stmt = select(c.bucket, *sums).where(or_(in_bucket, overall)).group_by(c.bucket)
    rows: dict[Any, dict[str, float]] = {}
    total: dict[str, float] = {}
    for row in session.execute(stmt):
        values = row._asdict()
        rows[row.bucket] = {k[2:]: v for k, v in values.items() if k.startswith("b_")}
        for k, v in values.items():
            if k.startswith("o_"):
                total[k[2:]] = total.get(k[2:], 0) + (v or 0)
    return total, rows


def _estimate(row: dict[str, float] | None, weighted: bool) -> tuple[NpsEstimate, dict[str, Any]]:
    row = row or {}
    counts = {k: int(row.get(k) or 0) for k in ("promoters", "passives", "detractors")}
    if not weighted:
        est = nps_estimate(counts["promoters"], counts["passives"], counts["detractors"])
        return est, {"responses": sum(counts.values()), **counts}
    w = {k: float(row.get(f"w_{k}") or 0.0) for k in counts}
    total = sum(w.values())
    n_eff = effective_sample_size(total, float(row.get("w2") or 0.0))
    est = nps_estimate(w["promoters"], w["passives"], w["detractors"], effective_n=n_eff)
    extra = {
        "responses": sum(counts.values()),
        **counts,
        "weighted": {
            "promoters": round(w["promoters"], 4),
            "passives": round(w["passives"], 4),
            "detractors": round(w["detractors"], 4),
            "total": round(total, 4),
            "effective_n": round(n_eff, 2),
        },
    }
    return est, extra


def _bucket_json(est: NpsEstimate, extra: dict[str, Any], weighted: bool) -> dict[str, Any]:
    shares = est.percentages() if weighted else _count_pcts(extra)
    return {
        **extra,
        **shares,
        "nps": est.nps,
        "margin_of_error": est.margin_of_error if est.nps is not None else None,
        "ci_low": est.ci_low if est.nps is not None else None,
        "ci_high": est.ci_high if est.nps is not None else None,
        "low_sample": est.low_sample,
    }


def _count_pcts(extra: dict[str, Any]) -> dict[str, float | None]:
    n = extra["responses"]
    if not n:
        return {"promoters_pct": None, "passives_pct": None, "detractors_pct": None}
    return {
        f"{k}_pct": round(100.0 * extra[k] / n, 2) for k in ("promoters", "passives", "detractors")
    }


def _from_period_answers(
    session: Session, project: Project, q: MetricsQuery
) -> tuple[list[Period], dict[str, int], dict[int, dict[str, int]]] | None:
    """The counts from the pre-aggregate when it can stand in for the answers (see
    `surveys.analytics.period_metrics`), else None."""
    if q.count_all or q.weight_property is not None:
        return None
    survey_id = period_metrics.readable_survey(session, project, q.filters, q.group_by)
    if survey_id is None:
        return None
    counted = period_metrics.nps_counts(
        session, project, survey_id, q.group_by, with_overall=q.overall
    )
    if counted is not None and len(counted[0]) > MAX_PERIODS:
        return None  # the answers' path says why that is too many
    return counted


def nps_metrics(session: Session, project: Project, q: MetricsQuery) -> dict[str, Any]:
    if (
        q.group_by is not None
        and q.group_by not in GROUPS
        and not q.group_by.startswith("property:")
    ):
        raise Invalid(f"unknown group_by {q.group_by!r}", {"group_by": ["unknown grouping"]})
    if q.filters.survey_id is not None:
        # Another project's survey is missing here, as on every route that names one: zeros
        # would only tell a caller that the id exists somewhere.
        get_survey(session, project.id, q.filters.survey_id)
    if q.group_by and q.group_by.startswith("property:"):
        parse_property_ref(q.group_by, "group_by")
    weight = weight_of(session, q.weight_property) if q.weight_property is not None else None
    weighted = weight is not None
    conds = _scored_conditions(project.id, q.filters)

    single_pass = q.group_by in UNITS and not q.count_all
    counted = _from_period_answers(session, project, q)
    if counted is not None:
        periods, overall_row, rows = counted
    else:
        periods = _periods(session, project, conds, q.group_by) if q.group_by in UNITS else []
        if single_pass and periods:
            since_first = [*conds, SurveyResponse.created_at >= periods[0].start]
            overall_row, rows = _aggregate_in_time(
                session, since_first, q.group_by, periods, weight
            )
        else:
            overall_row = _aggregate(session, conds, literal("all"), weight, q.count_all).get("all")
    est, extra = _estimate(overall_row, weighted)
    result: dict[str, Any] = {
        "group_by": q.group_by,
        "count": "all" if q.count_all else "person",
        "weight": q.weight_property,
        "time_zone": project.time_zone,
        "overall": _bucket_json(est, extra, weighted) if q.overall else None,
        "buckets": [],
    }
    if q.group_by is None:
        return result
    if q.group_by in UNITS and not periods:
        return result
    if not single_pass:
        if periods:
            conds = [*conds, SurveyResponse.created_at >= periods[0].start]
        bucket = _bucket_expression(q.group_by, periods)
        rows = _aggregate(session, conds, bucket, weight, q.count_all)
    if q.group_by in UNITS:
        previous: NpsEstimate | None = None
        for i, period in enumerate(periods):
            est, extra = _estimate(rows.get(i), weighted)
            bucket = {
                "key": period.label,
                "start": period.start,
                "end": period.end,
                **_bucket_json(est, extra, weighted),
                "change": None,
            }
            if previous is not None and est.nps is not None and previous.nps is not None:
                ch = nps_change(previous, est)
                bucket["change"] = {
                    "change": ch.change,
                    "ci_low": ch.ci_low,
                    "ci_high": ch.ci_high,
                    "significant": ch.significant,
                }
            previous = est
            result["buckets"].append(bucket)
    else:
        for key in sorted(rows, key=lambda k: (k is None, str(k))):
            est, extra = _estimate(rows[key], weighted)
            result["buckets"].append(
                {"key": None if key is None else str(key), **_bucket_json(est, extra, weighted)}
            )
    return result


def score_histogram(session: Session, project: Project, filters: ResponseFilters) -> list[int]:
    """How many people gave each score 0–10, each with their latest counted answer (as the
    NPS over the same filters counts them); index = score."""
    if filters.survey_id is not None:
        get_survey(session, project.id, filters.survey_id)
    counted = period_metrics.period_histogram(session, project, filters)
    if counted is not None:
        return counted
    r = SurveyResponse
    latest = (
        func.row_number()
        .over(partition_by=r.person_id, order_by=(r.created_at.desc(), r.id.desc()))
        .label("rn")
    )
    inner = select(r.score.label("score"), latest).where(*_scored_conditions(project.id, filters))
    inner_q = inner.subquery()
    stmt = select(inner_q.c.score, func.count()).where(inner_q.c.rn == 1).group_by(inner_q.c.score)
    counts = [0] * 11
    for score, count in session.execute(stmt):
        counts[int(score)] = int(count)
    return counts
