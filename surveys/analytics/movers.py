"""The people behind a movement figure: who went from which segment to which, with both answers.

The same pairing as `movement` (each person's counted answer in both periods, one row
per person), filtered by segments and kind of movement, ordered by person id and resumed after
the last one seen (keyset pages: only people after the cursor are read). The team app asks for
the worst drops first instead (promoter to detractor, then one-step drops, then rises), sorted
in SQL, so a page of them is right however many people moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from surveys.analytics.movement import (
    MOVED,
    MovementQuery,
    counted_answers,
    is_linked_pair,
    movement_condition,
    resolve_pair,
)
from surveys.analytics.movement_report import RANKED
from surveys.catalog import get_survey
from surveys.database.paging import Page
from surveys.models import PeriodAnswer, Person, Project, SurveyResponse
from surveys.periods import Period
from surveys.segments import SEGMENT_RANK, Movement, Segment, movement_between, rank_case

SEGMENT_FILTERS = (*(s.value for s in RANKED), "none")
MOVEMENT_KINDS = tuple(
    k.value if isinstance(k, Movement) else k
    for k in (Movement.UP, Movement.DOWN, Movement.STAYED, MOVED, Movement.NEW, Movement.LAPSED)
)


@dataclass(frozen=True)
class MoversQuery:
    pair: MovementQuery
    from_segment: str | None = None
    to_segment: str | None = None
    movement: str | None = None


@dataclass(frozen=True)
class Mover:
    person: Person
    from_period: str
    to_period: str
    from_segment: str | None
    to_segment: str | None
    movement: str
    from_response: SurveyResponse | None
    to_response: SurveyResponse | None


def _segment_condition(column: ColumnElement[int], wanted: str) -> ColumnElement[bool]:
    if wanted == "none":
        return column.is_(None)
    return column == SEGMENT_RANK[Segment(wanted)]


def _name(rank: int | None) -> str | None:
    return None if rank is None else RANKED[2 - rank].value


def list_movers(
    session: Session,
    project: Project,
    q: MoversQuery,
    now: datetime,
    *,
    limit: int,
    after: int | None,
    worst_first_offset: int | None = None,
) -> Page[Mover]:
    """A keyset page by person id; or, with `worst_first_offset`, the page of `limit` movers
    starting at that offset in worst-drop-first order (its `next_after` is then the next
    offset)."""
    get_survey(session, project.id, q.pair.survey_id)
    a, b = resolve_pair(project, q.pair, now)
    r = SurveyResponse
    worst_first = worst_first_offset is not None
    if _reads_linked(project, q, a, b):
        rows = _linked_rows(session, q, a, b, limit, after, worst_first_offset)
    else:
        rows = _paired_rows(session, project, q, a, b, limit, after, worst_first_offset)
    has_more = len(rows) > limit
    rows = rows[:limit]
    response_ids = [i for row in rows for i in (row.ra, row.rb) if i is not None]
    responses = {
        x.id: x for x in session.scalars(select(SurveyResponse).where(r.id.in_(response_ids)))
    }
    people = {
        x.id: x
        for x in session.scalars(select(Person).where(Person.id.in_([x.person_id for x in rows])))
    }
    items = [
        Mover(
            person=people[row.person_id],
            from_period=a.label,
            to_period=b.label,
            from_segment=_name(row.sa),
            to_segment=_name(row.sb),
            movement=movement_between(row.sa, row.sb),
            from_response=responses.get(row.ra) if row.ra is not None else None,
            to_response=responses.get(row.rb) if row.rb is not None else None,
        )
        for row in rows
    ]
    if worst_first:
        return Page(items, (worst_first_offset or 0) + limit if has_more else None)
    next_after = rows[-1].person_id if has_more and rows else None
    return Page(items, next_after)


@dataclass(frozen=True)
class _Row:
    person_id: int
    sa: int | None
    sb: int | None
    ra: int | None
    rb: int | None


# Kinds of movement that need an answer in B: their people all have a row in B.
_IN_B = {Movement.UP.value, Movement.DOWN.value, Movement.STAYED.value, MOVED, Movement.NEW.value}
# ... and that need one in A too: their B rows all carry a rise.
_IN_BOTH = _IN_B - {Movement.NEW.value}


def _reads_linked(project: Project, q: MoversQuery, a: Period, b: Period) -> bool:
    """Whether every wanted person has a row in B, so that B's linked rows hold them all
    (lapsed people are in A only and are paired the long way)."""
    in_b = (q.to_segment is not None and q.to_segment != "none") or q.movement in _IN_B
    return in_b and is_linked_pair(project, q.pair.unit, a, b)


def _linked_rows(
    session: Session,
    q: MoversQuery,
    a: Period,
    b: Period,
    limit: int,
    after: int | None,
    worst_first_offset: int | None,
) -> list[_Row]:
    """The page from B's rows alone: the segment in A is their `prev_score`'s, and worst
    drops first is `ix_period_answers_rise` read from its lowest rise on."""
    pa = PeriodAnswer
    sa, sb = rank_case(pa.prev_score), rank_case(pa.score)
    where = [pa.survey_id == q.pair.survey_id, pa.unit == q.pair.unit, pa.period == b.label]
    where += _conditions(q, sa, sb)
    both = q.movement in _IN_BOTH or (q.from_segment is not None and q.from_segment != "none")
    if both:
        where.append(pa.rise.is_not(None))
    stmt = select(pa.person_id, sa.label("sa"), sb.label("sb"), pa.response_id).where(*where)
    if worst_first_offset is not None:
        # The same order as the paired rows': the largest fall (lowest rise) first, people
        # without an answer in A last, then by person.
        order = (pa.rise, pa.person_id) if both else (pa.rise.is_(None), pa.rise, pa.person_id)
        stmt = stmt.order_by(*order).offset(worst_first_offset)
    else:
        if after is not None:
            stmt = stmt.where(pa.person_id > after)
        stmt = stmt.order_by(pa.person_id)
    found = session.execute(stmt.limit(limit + 1)).all()
    ids = [row.person_id for row in found]
    in_a = dict(
        session.execute(
            select(pa.person_id, pa.response_id).where(
                pa.survey_id == q.pair.survey_id,
                pa.unit == q.pair.unit,
                pa.period == a.label,
                pa.person_id.in_(ids),
            )
        ).all()
    )
    return [
        _Row(row.person_id, row.sa, row.sb, in_a.get(row.person_id), row.response_id)
        for row in found
    ]


def _conditions(q: MoversQuery, sa: ColumnElement[int], sb: ColumnElement[int]) -> list[Any]:
    conditions = []
    if q.from_segment:
        conditions.append(_segment_condition(sa, q.from_segment))
    if q.to_segment:
        conditions.append(_segment_condition(sb, q.to_segment))
    if q.movement:
        conditions.append(movement_condition(sa, sb, q.movement))
    return conditions


def _paired_rows(
    session: Session,
    project: Project,
    q: MoversQuery,
    a: Period,
    b: Period,
    limit: int,
    after: int | None,
    worst_first_offset: int | None,
) -> list[Any]:
    """The page from both periods' rows paired person by person."""
    worst_first = worst_first_offset is not None
    keyset = None if worst_first else after
    c = counted_answers(project, q.pair.survey_id, q.pair.unit, [a, b], after_person=keyset).c
    person = (
        select(
            c.person_id,
            rank_case(func.max(case((c.b == 0, c.score)))).label("sa"),
            rank_case(func.max(case((c.b == 1, c.score)))).label("sb"),
            func.max(case((c.b == 0, c.rid))).label("ra"),
            func.max(case((c.b == 1, c.rid))).label("rb"),
        )
        .group_by(c.person_id)
        .subquery("per_person")
    )
    p = person.c
    stmt = select(person).where(*_conditions(q, p.sa, p.sb))
    if worst_first:
        # A rank fall is sa - sb (2 for promoter to detractor); people with one period only
        # have no fall and come last.
        fall = func.coalesce(p.sa - p.sb, -3)
        stmt = stmt.order_by(fall.desc(), p.person_id).offset(worst_first_offset)
    else:
        stmt = stmt.order_by(p.person_id)
    return list(session.execute(stmt.limit(limit + 1)).all())
