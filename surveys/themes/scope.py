"""Which responses a theme run covers, as SQL conditions: its comments and its NPS base.

Comments: non-excluded responses with a non-blank comment, in the run's survey (if any) and
date range, whose segment is one of the run's segments; "feedback" is free-form in-product
feedback (no survey, no score), so a run limited to one survey never includes it.
NPS base: every non-excluded scored answer in the same survey and date range, whatever its
segment, because NPS impact is measured against the overall NPS.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_

from surveys.models import SurveyResponse
from surveys.segments import Segment, score_range
from surveys.themes.runs import RunParams


def _common(project_id: int, params: RunParams) -> list[ColumnElement[bool]]:
    r = SurveyResponse
    conds: list[ColumnElement[bool]] = [r.project_id == project_id, r.excluded.is_(False)]
    if params.survey_id is not None:
        conds.append(r.survey_id == params.survey_id)
    if params.since is not None:
        conds.append(r.created_at >= params.since)
    if params.until is not None:
        conds.append(r.created_at < params.until)
    return conds


def segment_condition(segment: str) -> ColumnElement[bool]:
    r = SurveyResponse
    if segment == "feedback":
        return and_(r.survey_id.is_(None), r.score.is_(None))
    low, high = score_range(Segment(segment))
    return and_(r.score >= low, r.score <= high)


def comment_conditions(project_id: int, params: RunParams) -> list[ColumnElement[bool]]:
    r = SurveyResponse
    return [
        *_common(project_id, params),
        r.comment.is_not(None),
        func.length(func.trim(r.comment)) > 0,
        or_(*[segment_condition(s) for s in params.segments]),
    ]


def respondent_conditions(project_id: int, params: RunParams) -> list[ColumnElement[bool]]:
    return [*_common(project_id, params), SurveyResponse.score.is_not(None)]
