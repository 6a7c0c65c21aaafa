"""The filters shared by response listings, metrics and exports, as SQL conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from surveys.clock import to_naive_utc
from surveys.database.paging import Page, keyset_page
from surveys.models import SurveyResponse
from surveys.segments import Segment, score_range


@dataclass(frozen=True)
class ResponseFilters:
    survey_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    segment: Segment | None = None
    person_id: int | None = None
    channel: str | None = None
    updated_since: datetime | None = None


def response_conditions(project_id: int, f: ResponseFilters) -> list[ColumnElement[bool]]:
    r = SurveyResponse
    conds: list[ColumnElement[bool]] = [r.project_id == project_id]
    if f.survey_id is not None:
        conds.append(r.survey_id == f.survey_id)
    if f.since is not None:
        conds.append(r.created_at >= to_naive_utc(f.since))
    if f.until is not None:
        conds.append(r.created_at < to_naive_utc(f.until))
    if f.segment is not None:
        low, high = score_range(f.segment)
        conds.append(and_(r.score >= low, r.score <= high))
    if f.person_id is not None:
        conds.append(r.person_id == f.person_id)
    if f.channel is not None:
        conds.append(r.channel == f.channel)
    if f.updated_since is not None:
        conds.append(r.updated_at >= to_naive_utc(f.updated_since))
    return conds


def list_responses(
    session: Session, project_id: int, filters: ResponseFilters, *, limit: int, after: int | None
) -> Page[Any]:
    stmt = select(SurveyResponse).where(*response_conditions(project_id, filters))
    return keyset_page(session, stmt, SurveyResponse.id, limit=limit, after=after)
