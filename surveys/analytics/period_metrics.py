"""NPS per quarter or month read from the pre-aggregate `period_answers`, not the raw answers.

`period_answers` already holds each person's counted answer (latest non-excluded scored) per
survey and period, which is what NPS by period counts, and `period_scores` counts those rows
per period and score (kept by triggers). So the per-period counts and a period's histogram
are a few dozen rows whatever the number of answers, and the overall figure (each person's
latest answer in the range) is the row of each person's last period, read in person order
from an index: no ranking of a million answers per request.

The rows stand in for the answers only when they say the same thing:
- the project's rows are cut in its present time zone (`period_answers.is_current`);
- the question is one survey's (named by the filter, or the project has only one): the rows
  are kept per survey, while NPS counts a person once per period across surveys;
- no filter but the survey (a channel, dates inside a period, a segment, ... are not in the
  rows), no weight (the property snapshot is on the answer), people counted, not answers.
Otherwise `nps_metrics` ranks the answers themselves, as it always did.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from surveys.models import PeriodAnswer, PeriodScore, Project, Survey
from surveys.period_answers import KEPT_UNITS, is_current
from surveys.periods import Period, period_from_label, period_of, periods_between
from surveys.response_filters import ResponseFilters
from surveys.segments import Segment, in_segment, segment_of


def readable_survey(
    session: Session, project: Project, filters: ResponseFilters, unit: str | None
) -> int | None:
    """The survey whose period answers can answer this question, or None when the answers
    themselves must be read (see the module's list)."""
    if unit not in KEPT_UNITS or not is_current(project):
        return None
    # Any filter but the survey (whatever filters exist now or later) is not in the rows.
    if replace(filters, survey_id=None) != ResponseFilters():
        return None
    if filters.survey_id is not None:
        return filters.survey_id
    ids = session.scalars(select(Survey.id).where(Survey.project_id == project.id).limit(2))
    found = list(ids)
    return found[0] if len(found) == 1 else None


_SEGMENTS = {
    "promoters": Segment.PROMOTER,
    "passives": Segment.PASSIVE,
    "detractors": Segment.DETRACTOR,
}
_NAMES = tuple(_SEGMENTS)
_NAME_OF = {segment: name for name, segment in _SEGMENTS.items()}


def _sums(score: Any) -> list[Any]:
    return [
        func.sum(case((in_segment(score, segment), 1), else_=0)).label(name)
        for name, segment in _SEGMENTS.items()
    ]


def nps_counts(
    session: Session, project: Project, survey_id: int, unit: str, *, with_overall: bool = True
) -> tuple[list[Period], dict[str, int], dict[int, dict[str, int]]] | None:
    """(periods, overall counts, counts per period index) as `nps_metrics` builds them over
    the answers, from the survey's period scores and answers; None when a row's label is not
    a period of the project's (rows cut otherwise: read the answers). The overall figure
    (each person's latest answer) is the one read that grows with the people:
    `with_overall=False` leaves it out (empty)."""
    per_period = _period_counts(session, survey_id, unit)
    if not per_period:
        return [], {}, {}
    # The periods the answers span are those of the first and last labels: every period with
    # an answer has a counted one.
    try:
        first, last = (
            period_from_label(label, unit, project.time_zone)
            for label in (min(per_period), max(per_period))
        )
    except ValueError:
        return None
    periods = periods_between(first.start, last.start, unit, project.time_zone)
    index = {p.label: i for i, p in enumerate(periods)}
    if not index.keys() >= per_period.keys():
        return None
    rows = {index[label]: counts for label, counts in per_period.items()}
    overall = _overall(session, survey_id, unit) if with_overall else {}
    return periods, overall, rows


def _period_counts(session: Session, survey_id: int, unit: str) -> dict[str, dict[str, int]]:
    """{period label: segment counts} from `period_scores` (a few dozen rows); periods whose
    people all left (counted back to zero) are left out, as they have no counted answer."""
    ps = PeriodScore
    stmt = (
        select(ps.period, ps.score, func.sum(ps.people))
        .where(ps.survey_id == survey_id, ps.unit == unit)
        .group_by(ps.period, ps.score)
    )
    out: dict[str, dict[str, int]] = {}
    for period, score, people in session.execute(stmt):
        if not people:
            continue
        counts = out.setdefault(period, dict.fromkeys(_NAMES, 0))
        counts[_NAME_OF[segment_of(score)]] += int(people)
    return out


def _overall(session: Session, survey_id: int, unit: str) -> dict[str, int]:
    """Each person's latest answer: the row of their last period (labels sort in time order),
    read person by person from `ix_period_answers_person` without a sort.

    Each database has its own way to take one row per group from an index: SQLite's `max()`
    gives its bare columns from the row holding the maximum (documented SQLite behaviour);
    PostgreSQL has DISTINCT ON, here walking the index backwards.
    """
    pa = PeriodAnswer
    mine = (pa.survey_id == survey_id, pa.unit == unit)
    if session.get_bind().dialect.name == "postgresql":
        last = (
            select(pa.score)
            .where(*mine)
            .distinct(pa.person_id)
            .order_by(pa.person_id.desc(), pa.period.desc())
        )
    else:
        last = select(pa.score, func.max(pa.period)).where(*mine).group_by(pa.person_id)
    latest = last.subquery()
    row = session.execute(select(*_sums(latest.c.score))).one()
    return {k: int(getattr(row, k) or 0) for k in _NAMES}


def period_histogram(
    session: Session, project: Project, filters: ResponseFilters
) -> list[int] | None:
    """Scores 0–10 of the people counted in one whole quarter or month of one survey, from
    its period answers; None when the filters are not exactly that (read the answers)."""
    if filters.since is None or filters.until is None:
        return None
    rest = ResponseFilters(survey_id=filters.survey_id)
    if filters != ResponseFilters(
        survey_id=filters.survey_id, since=filters.since, until=filters.until
    ):
        return None
    for unit in KEPT_UNITS:
        period = period_of(filters.since, unit, project.time_zone)
        if (period.start, period.end) != (filters.since, filters.until):
            continue
        survey_id = readable_survey(session, project, rest, unit)
        if survey_id is None:
            return None
        ps = PeriodScore
        stmt = (
            select(ps.score, func.sum(ps.people))
            .where(ps.survey_id == survey_id, ps.unit == unit, ps.period == period.label)
            .group_by(ps.score)
        )
        counts = [0] * 11
        for score, people in session.execute(stmt):
            counts[int(score)] = int(people or 0)
        return counts
    return None
