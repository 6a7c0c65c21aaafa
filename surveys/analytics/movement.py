"""Segment movement between two periods, computed in SQL: matrix, new, lapsed, weights, series.

A person's segment in a period is the segment of their latest non-excluded scored answer to the
survey in that period: read from `surveys.period_answers`, kept as answers arrive (or, while
those are rebuilt, found by ROW_NUMBER over person and period, newest first). Per person, the two
periods are then set side by side (a GROUP BY person with one MAX(CASE ...) per period), and the
pairs are counted by (segment in A, segment in B): a missing side is null, which makes the
`new` and `lapsed` rows of the same GROUP BY. Deleted people have no answers left, so they are
in no figure. Python only does arithmetic over the at most 15 cells (`movement_report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Subquery, case, func, select
from sqlalchemy.orm import Session

from surveys import period_answers
from surveys.analytics.movement_report import Cell, pair_report
from surveys.catalog import get_survey
from surveys.clock import to_naive_utc
from surveys.errors import Invalid
from surveys.models import PeriodAnswer, Project, SurveyResponse
from surveys.periods import (
    Period,
    next_period,
    period_from_label,
    period_of,
    periods_between,
    previous_period,
)
from surveys.property_refs import parse_property_ref, weight_of
from surveys.segments import Movement, movement_between_case, rank_case

MOVEMENT_UNITS = ("quarter", "month")
# Up or down: a filter over movements, not a movement of its own.
MOVED = "moved"
MAX_SERIES_PERIODS = 60
DEFAULT_SERIES_PERIODS = 4


@dataclass(frozen=True)
class MovementQuery:
    survey_id: int
    unit: str = "quarter"
    from_label: str | None = None
    to_label: str | None = None
    weight_property: str | None = None
    series: bool = False
    since: datetime | None = None
    until: datetime | None = None


def bucket_of(periods: list[Period]) -> ColumnElement[Any]:
    """The index of the period holding an answer; null outside every period.

    Membership is tested here rather than as a created_at range in WHERE so that the planner
    walks the covering (survey, person, time, score, excluded) index in person order instead
    of ranging over time and sorting everything again.
    """
    return period_answers.period_case(periods, list(range(len(periods))))


def latest_answers(
    survey_id: int,
    periods: list[Period],
    *columns: ColumnElement[Any],
    where: tuple[ColumnElement[bool], ...] = (),
) -> Subquery:
    """(person_id, b, *columns, rn): rn = 1 marks each person's latest counted answer per period.

    Ranks the stored answers themselves: what `counted_answers` reads while a project's period
    answers are being rebuilt. Only the survey is filtered on: the caller has checked that it
    belongs to the project, and an answer always belongs to its survey's project.
    """
    r = SurveyResponse
    bucket = bucket_of(periods)
    return (
        select(
            r.person_id,
            bucket.label("b"),
            *columns,
            func.row_number()
            .over(partition_by=(r.person_id, bucket), order_by=(r.created_at.desc(), r.id.desc()))
            .label("rn"),
        )
        .where(
            r.survey_id == survey_id,
            r.score.is_not(None),
            r.excluded.is_(False),
            bucket.is_not(None),
            *where,
        )
        .subquery("ranked")
    )


def counted_answers(
    project: Project,
    survey_id: int,
    unit: str,
    periods: list[Period],
    *,
    weight: ColumnElement[float] | None = None,
    after_person: int | None = None,
) -> Subquery:
    """(person_id, b, score, rid[, w]): each person's counted answer in each of `periods`,
    b being the period's index.

    Read from the period answers kept as answers arrive; from a ranking of every stored
    answer only while those are being rebuilt. The weight, a property of the counted answer's
    snapshot, is the one thing that needs the answer row itself.
    """
    if not period_answers.is_current(project):
        r = SurveyResponse
        extra = [weight.label("w")] if weight is not None else []
        where = (r.person_id > after_person,) if after_person is not None else ()
        ranked = latest_answers(
            survey_id, periods, r.score.label("score"), r.id.label("rid"), *extra, where=where
        )
        columns = [ranked.c.person_id, ranked.c.b, ranked.c.score, ranked.c.rid]
        if weight is not None:
            columns.append(ranked.c.w)
        return select(*columns).where(ranked.c.rn == 1).subquery("counted")
    pa = PeriodAnswer
    index = case(*[(pa.period == p.label, i) for i, p in enumerate(periods)])
    stmt = select(
        pa.person_id, index.label("b"), pa.score.label("score"), pa.response_id.label("rid")
    ).where(
        pa.survey_id == survey_id,
        pa.unit == unit,
        pa.period.in_([p.label for p in periods]),
    )
    if after_person is not None:
        stmt = stmt.where(pa.person_id > after_person)
    if weight is not None:
        stmt = stmt.add_columns(weight.label("w")).join(
            SurveyResponse, SurveyResponse.id == pa.response_id
        )
    return stmt.subquery("counted")


def _parse_label(label: str, unit: str, tz: str, field: str) -> Period:
    try:
        return period_from_label(label, unit, tz)
    except ValueError as exc:
        raise Invalid(str(exc), {field: [str(exc)]}) from exc


def resolve_pair(project: Project, q: MovementQuery, now: datetime) -> tuple[Period, Period]:
    """`from` and `to` periods; missing ones default to the last two complete periods."""
    tz, unit = project.time_zone, q.unit
    if unit not in MOVEMENT_UNITS:
        raise Invalid(f"unknown period {unit!r}", {"period": ["quarter or month"]})
    a = _parse_label(q.from_label, unit, tz, "from") if q.from_label else None
    b = _parse_label(q.to_label, unit, tz, "to") if q.to_label else None
    if b is None:
        b = next_period(a, unit, tz) if a else previous_period(period_of(now, unit, tz), unit, tz)
    if a is None:
        a = previous_period(b, unit, tz)
    if not a.start < b.start:
        raise Invalid("from must be a period before to", {"to": ["must come after from"]})
    return a, b


def series_periods(project: Project, q: MovementQuery, now: datetime) -> list[Period]:
    """Every period from the one holding `since` to the one holding the instant before `until`.

    Defaults: `until` the start of the current period, `since` four periods earlier.
    """
    tz, unit = project.time_zone, q.unit
    if unit not in MOVEMENT_UNITS:
        raise Invalid(f"unknown period {unit!r}", {"period": ["quarter or month"]})
    until = to_naive_utc(q.until) if q.until else period_of(to_naive_utc(now), unit, tz).start
    if q.since:
        since = to_naive_utc(q.since)
    else:
        first = period_of(until - timedelta(microseconds=1), unit, tz)
        for _ in range(DEFAULT_SERIES_PERIODS - 1):
            first = previous_period(first, unit, tz)
        since = first.start
    if not since < until:
        raise Invalid("since must be before until", {"until": ["must come after since"]})
    periods = periods_between(since, until - timedelta(microseconds=1), unit, tz)
    if len(periods) > MAX_SERIES_PERIODS:
        raise Invalid(
            f"too many periods ({len(periods)}); narrow since/until",
            {"since": [f"at most {MAX_SERIES_PERIODS} periods"]},
        )
    return periods


CellMap = dict[tuple[int | None, int | None], Cell]


def is_linked_pair(project: Project, unit: str, a: Period, b: Period) -> bool:
    """Whether B's period answers hold each person's row in A: B follows A, the rows are
    current, and the unit is one the rows are kept in."""
    return (
        period_answers.is_current(project)
        and unit in period_answers.KEPT_UNITS
        and next_period(a, unit, project.time_zone).label == b.label
    )


def _by_scores(unit_period: tuple[ColumnElement[bool], ...], *sums: Any) -> Subquery:
    """One period's rows grouped by (previous score, score): read in the order of
    `ix_period_answers_pair`, so the database streams the groups without sorting rows."""
    pa = PeriodAnswer
    return (
        select(pa.prev_score, pa.score, func.count().label("n"), *sums)
        .where(*unit_period)
        .group_by(pa.prev_score, pa.score)
        .subquery("by_scores")
    )


def linked_cells(
    session: Session, survey_id: int, unit: str, a: Period, b: Period, weighted: bool
) -> tuple[CellMap, CellMap]:
    """`movement_cells` between consecutive periods from the linked rows: B's rows grouped by
    (segment in A, segment in B) give the repeat and new cells; A's rows by segment, less
    those found again in B, give the lapsed ones. Two GROUP BYs of one period each.

    Weights: a person in B weighs their B row's weight, else their A row's (`prev_weight`);
    a lapsed person their A row's. Lapsed weights are A's sums less what B carries over: the
    same as summing the lapsed rows up to float rounding, far below the 4 decimals reported.
    """
    pa = PeriodAnswer
    where = (pa.survey_id == survey_id, pa.unit == unit)
    w = func.coalesce(pa.weight, pa.prev_weight)
    to_sums = [
        func.sum(w).label("ws"),
        func.count(w).label("wn"),
        func.sum(pa.prev_weight).label("ps"),
        func.count(pa.prev_weight).label("pn"),
    ]
    g = _by_scores((*where, pa.period == b.label), *to_sums).c
    sa, sb = rank_case(g.prev_score).label("sa"), rank_case(g.score).label("sb")
    to_rows = session.execute(
        select(
            sa,
            sb,
            func.sum(g.n).label("n"),
            func.sum(g.ws).label("ws"),
            func.sum(g.wn).label("wn"),
            func.sum(g.ps).label("ps"),
            func.sum(g.pn).label("pn"),
        ).group_by(sa, sb)
    ).all()
    f = _by_scores(
        (*where, pa.period == a.label),
        func.sum(pa.weight).label("ws"),
        func.count(pa.weight).label("wn"),
    ).c
    fa = rank_case(f.score).label("sa")
    from_rows = session.execute(
        select(
            fa,
            func.sum(f.n).label("n"),
            func.sum(f.ws).label("ws"),
            func.sum(f.wn).label("wn"),
        ).group_by(fa)
    ).all()
    counts: CellMap = {}
    weights: CellMap = {}
    kept: dict[int, list[float]] = {}  # segment in A -> [people, weighted people, weight] in B
    for row in to_rows:
        counts[(row.sa, row.sb)] = Cell(int(row.n))
        weights[(row.sa, row.sb)] = Cell(int(row.wn or 0), float(row.ws or 0.0))
        if row.sa is not None:
            k = kept.setdefault(row.sa, [0, 0, 0.0])
            k[0] += int(row.n)
            k[1] += int(row.pn or 0)
            k[2] += float(row.ps or 0.0)
    for row in from_rows:
        n, wn, ws = kept.get(row.sa, [0, 0, 0.0])
        if int(row.n) > n:
            counts[(row.sa, None)] = Cell(int(row.n) - n)
            weights[(row.sa, None)] = Cell(int(row.wn or 0) - wn, float(row.ws or 0.0) - ws)
    return counts, (weights if weighted else {})


def movement_cells(
    session: Session,
    project: Project,
    survey_id: int,
    unit: str,
    a: Period,
    b: Period,
    weight: ColumnElement[float] | None = None,
    weight_name: str | None = None,
) -> tuple[CellMap, CellMap]:
    """Counts (and, with a weight, weighted people and summed weights) per pair of segments.

    A person's weight is the property on their counted answer in B, else on the one in A.
    Consecutive periods read the linked period answers (`linked_cells`) unless the weight is
    another property than the one the rows keep; other pairs pair the two periods' rows.
    """
    if is_linked_pair(project, unit, a, b) and (
        weight is None or weight_name == period_answers.KEPT_WEIGHT
    ):
        return linked_cells(session, survey_id, unit, a, b, weight is not None)
    c = counted_answers(project, survey_id, unit, [a, b], weight=weight).c
    # Scores, not segments, are paired: the segment is then worked out once per person
    # rather than once per answer.
    pivot = [
        func.max(case((c.b == 0, c.score))).label("sa"),
        func.max(case((c.b == 1, c.score))).label("sb"),
    ]
    if weight is not None:
        pivot.append(
            func.coalesce(func.max(case((c.b == 1, c.w))), func.max(case((c.b == 0, c.w)))).label(
                "w"
            )
        )
    person = select(c.person_id, *pivot).group_by(c.person_id).subquery()
    p = person.c
    sa, sb = rank_case(p.sa).label("sa"), rank_case(p.sb).label("sb")
    sums = [func.sum(p.w).label("wsum"), func.count(p.w).label("wn")] if weight is not None else []
    stmt = select(sa, sb, func.count().label("n"), *sums).group_by(sa, sb)
    counts: CellMap = {}
    weights: CellMap = {}
    for row in session.execute(stmt):
        key = (row.sa, row.sb)
        counts[key] = Cell(int(row.n))
        if weight is not None:
            weights[key] = Cell(int(row.wn), float(row.wsum or 0.0))
    return counts, weights


def _period_json(period: Period) -> dict[str, Any]:
    return {"key": period.label, "start": period.start, "end": period.end}


def _pair(
    session: Session,
    project: Project,
    q: MovementQuery,
    a: Period,
    b: Period,
    weight: ColumnElement[float] | None,
) -> dict[str, Any]:
    name = parse_property_ref(q.weight_property, "weight") if q.weight_property else None
    counts, weights = movement_cells(session, project, q.survey_id, q.unit, a, b, weight, name)
    report = pair_report(counts, weights if weight is not None else None)
    return {"from": _period_json(a), "to": _period_json(b), **report}


def movement(session: Session, project: Project, q: MovementQuery, now: datetime) -> dict[str, Any]:
    """The movement between two periods, or (`series`) between every consecutive pair."""
    get_survey(session, project.id, q.survey_id)
    weight = weight_of(session, q.weight_property) if q.weight_property else None
    head: dict[str, Any] = {
        "survey_id": q.survey_id,
        "period": q.unit,
        "time_zone": project.time_zone,
        "weight": q.weight_property,
    }
    if q.series:
        periods = series_periods(project, q, now)
        pairs = [
            _pair(session, project, q, a, b, weight)
            for a, b in zip(periods, periods[1:], strict=False)
        ]
        return {**head, "series": pairs}
    a, b = resolve_pair(project, q, now)
    return {**head, **_pair(session, project, q, a, b, weight)}


def movement_condition(
    sa: ColumnElement[Any], sb: ColumnElement[Any], kind: str
) -> ColumnElement[bool]:
    """SQL for one kind of movement over the two segment ranks of a person; `moved` is up or
    down."""
    if kind == MOVED:
        return movement_between_case(sa, sb).in_((Movement.UP.value, Movement.DOWN.value))
    return movement_between_case(sa, sb) == Movement(kind).value
