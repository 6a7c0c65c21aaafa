"""What a response means beside its own row: previous segment, movement and theme.

`previous_score` is the score of the same person's previous non-excluded scored answer to the
same survey (a window function, so one query serves a page or a whole export stream).
`theme_id` comes from the project's latest finished theme run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from surveys.database.prepared import PreparedSelect
from surveys.memo import memo
from surveys.models import FrictionPoint, SurveyResponse, ThemeAssignment, ThemeRun
from surveys.segments import Segment, movement_between, rank_of, segment_of


def previous_scores(project_id: int) -> Select:
    """(response_id, previous_score) for every scored, non-excluded response of a project."""
    r = SurveyResponse
    return select(
        r.id.label("response_id"),
        func.lag(r.score)
        .over(partition_by=(r.survey_id, r.person_id), order_by=(r.created_at, r.id))
        .label("previous_score"),
    ).where(
        r.project_id == project_id,
        r.score.is_not(None),
        r.excluded.is_(False),
        r.survey_id.is_not(None),
    )


_R = SurveyResponse


def _previous_score(person_id: ColumnElement[Any], *, stored: bool) -> Select:
    """The score of the person's answer before a given one to the same survey, in the order
    the LAG window of `previous_scores` uses. `stored`: the answer is stored (its `id` is
    given); else it is about to be, and comes after every stored answer at its time."""
    at = bindparam("created_at", type_=_R.created_at.type)
    if stored:
        earlier = or_(
            _R.created_at < at,
            and_(_R.created_at == at, _R.id < bindparam("id", type_=_R.id.type)),
        )
    else:
        earlier = _R.created_at <= at
    return (
        select(_R.score)
        .where(
            _R.survey_id == bindparam("survey_id", type_=_R.survey_id.type),
            _R.person_id == person_id,
            _R.score.is_not(None),
            _R.excluded.is_(False),
            earlier,
        )
        .order_by(_R.created_at.desc(), _R.id.desc())
        .limit(1)
    )


@memo(maxsize=1)
def _stored_previous_score() -> PreparedSelect:
    """Compiled once because recording an answer may ask it every time."""
    return PreparedSelect(
        _previous_score(bindparam("person_id", type_=_R.person_id.type), stored=True)
    )


def previous_score_of(person_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """`previous_score` of an answer about to be stored, as a scalar subquery correlated to
    `person_id` (parameters `survey_id` and `created_at`), for a read that runs before the
    INSERT: one statement fewer than reading it after."""
    return _previous_score(person_id, stored=False).scalar_subquery()


def context_of(score: int | None, previous: int | None) -> ResponseContext:
    """The context of a new counted answer given its person's previous score (None: first)."""
    return ResponseContext(segment_of(previous), movement_of(previous, score), None, None)


def fresh_context(
    session: Session, response: Any, *, first_answer: bool = False
) -> ResponseContext:
    """The context of an answer just recorded: it has no theme yet (the worker assigns
    themes later), so only the previous answer is read; `first_answer` (a person created with
    it) has none to read."""
    if response.score is None or response.excluded or response.survey_id is None:
        return ResponseContext(None, None, None, None)
    if first_answer:
        return ResponseContext(None, movement_of(None, response.score), None, None)
    rows = _stored_previous_score().rows(
        session,
        {
            "survey_id": response.survey_id,
            "person_id": response.person_id,
            "created_at": response.created_at,
            "id": response.id,
        },
    )
    return context_of(response.score, rows[0].score if rows else None)


def latest_done_run_id(session: Session, project_id: int) -> int | None:
    return session.scalar(
        select(ThemeRun.id)
        .where(ThemeRun.project_id == project_id, ThemeRun.status == "done")
        .order_by(ThemeRun.id.desc())
        .limit(1)
    )


def themes_of(run_id: int | None) -> Select:
    """(response_id, theme_id, theme) of one run's assignments."""
    return (
        select(
            ThemeAssignment.response_id,
            ThemeAssignment.friction_point_id.label("theme_id"),
            FrictionPoint.label.label("theme"),
        )
        .join(FrictionPoint, FrictionPoint.id == ThemeAssignment.friction_point_id)
        .where(ThemeAssignment.run_id == (run_id if run_id is not None else -1))
    )


def movement_of(previous: int | None, current: int | None) -> str | None:
    """up / down / stayed against the previous answer, or new when there is none."""
    if current is None:
        return None
    return movement_between(rank_of(previous), rank_of(current))


@dataclass(frozen=True)
class ResponseContext:
    previous_segment: Segment | None
    movement: str | None
    theme_id: int | None
    theme: str | None


def response_contexts(
    session: Session, project_id: int, responses: Iterable[SurveyResponse]
) -> dict[int, ResponseContext]:
    items = list(responses)
    if not items:
        return {}
    ids = [r.id for r in items]
    survey_ids = {r.survey_id for r in items if r.survey_id is not None}
    previous: dict[int, int | None] = {}
    if survey_ids:
        # Narrow the window to the people on this page before ranking.
        person_ids = {r.person_id for r in items}
        inner = (
            previous_scores(project_id)
            .where(
                SurveyResponse.survey_id.in_(survey_ids),
                SurveyResponse.person_id.in_(person_ids),
            )
            .subquery()
        )
        rows = session.execute(select(inner).where(inner.c.response_id.in_(ids)))
        previous = {row.response_id: row.previous_score for row in rows}
    run_id = latest_done_run_id(session, project_id)
    themes: dict[int, tuple[int, str]] = {}
    if run_id is not None:
        tq = themes_of(run_id).where(ThemeAssignment.response_id.in_(ids))
        themes = {row.response_id: (row.theme_id, row.theme) for row in session.execute(tq)}
    out = {}
    for r in items:
        counted = r.score is not None and not r.excluded and r.id in previous
        prev = previous.get(r.id) if counted else None
        theme = themes.get(r.id)
        out[r.id] = ResponseContext(
            previous_segment=segment_of(prev),
            movement=movement_of(prev, r.score) if counted else None,
            theme_id=theme[0] if theme else None,
            theme=theme[1] if theme else None,
        )
    return out


def attach_contexts(
    session: Session, project_id: int, responses: list[SurveyResponse]
) -> list[SurveyResponse]:
    """Give each response its `context` (movement and theme) for the page that shows it, in
    two queries for the whole list."""
    contexts = response_contexts(session, project_id, responses)
    for response in responses:
        response.context = contexts[response.id]
    return responses
