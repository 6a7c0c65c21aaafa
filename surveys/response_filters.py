"""The filters shared by response listings, metrics and exports, as SQL conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from surveys.clock import to_naive_utc
from surveys.database.paging import Page, keyset_page, latest_first_page
from surveys.models import FollowUp, ResponseTag, SurveyResponse, ThemeAssignment, ThemeRun, User
from surveys.property_refs import property_name
from surveys.segments import Segment, score_range

# A text or property search reads at most this many answers for one page of the feed (newest
# first from its cursor): LIKE '%…%' and a JSON value have no index, so a search that matches
# little would otherwise read every answer of the project on each request.
SEARCH_WINDOW = 20_000

# The follow-up statuses, in their order (surveys/loop/triage_followup.py moves between them).
FOLLOW_UP_STATUSES = ("new", "contacted", "resolved")


@dataclass(frozen=True)
class ResponseFilters:
    survey_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    segment: Segment | None = None
    person_id: int | None = None
    channel: str | None = None
    updated_since: datetime | None = None
    text: str | None = None
    theme_id: int | None = None
    # Answers whose property snapshot has this value (text, or a number as written).
    property_name: str | None = None
    property_value: str | None = None
    # Triage: a tag on the response; its follow-up's status ("none": no follow-up), owner
    # (a member's email) and whether it is overdue at `overdue_at` (due before, not resolved).
    tag_id: int | None = None
    follow_up_status: str | None = None
    owner_email: str | None = None
    overdue_at: datetime | None = None


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds `text` as typed: its % and _ match themselves."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _in_theme(project_id: int, theme_id: int) -> ColumnElement[bool]:
    # The latest finished run is the one whose friction points the app and the API show.
    latest_run = (
        select(func.max(ThemeRun.id))
        .where(ThemeRun.project_id == project_id, ThemeRun.status == "done")
        .scalar_subquery()
    )
    assigned = select(ThemeAssignment.response_id).where(
        ThemeAssignment.run_id == latest_run, ThemeAssignment.friction_point_id == theme_id
    )
    return SurveyResponse.id.in_(assigned)


def _triage(project_id: int, f: ResponseFilters) -> list[ColumnElement[bool]]:
    # Aliases: a statement that joins these tables itself (the export joins the follow-up)
    # must not swallow the filters' subqueries by auto-correlation.
    r, fu, rt = SurveyResponse, aliased(FollowUp), aliased(ResponseTag)
    conds: list[ColumnElement[bool]] = []
    if f.tag_id is not None:
        conds.append(r.id.in_(select(rt.response_id).where(rt.tag_id == f.tag_id)))
    if f.follow_up_status == "none":
        conds.append(~r.id.in_(select(fu.response_id).where(fu.project_id == project_id)))
    elif f.follow_up_status is not None:
        conds.append(r.id.in_(select(fu.response_id).where(fu.status == f.follow_up_status)))
    if f.owner_email is not None:
        member = aliased(User)
        owner = select(member.id).where(member.email == f.owner_email.strip().lower())
        conds.append(r.id.in_(select(fu.response_id).where(fu.owner_id.in_(owner))))
    if f.overdue_at is not None:
        late = select(fu.response_id).where(
            fu.status != "resolved", fu.due_at < to_naive_utc(f.overdue_at)
        )
        conds.append(r.id.in_(late))
    return conds


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
    if f.text:
        conds.append(func.lower(r.comment).like(like_pattern(f.text), escape="\\"))
    if f.theme_id is not None:
        conds.append(_in_theme(project_id, f.theme_id))
    if f.property_name is not None and f.property_value is not None:
        name = property_name(f.property_name, "property")
        # As text on both databases: SQLite's JSON_EXTRACT gives a number for 10, which would
        # not equal '10'.
        conds.append(cast(r.properties[name].as_string(), String) == f.property_value)
    conds.extend(_triage(project_id, f))
    return conds


def list_responses(
    session: Session, project_id: int, filters: ResponseFilters, *, limit: int, after: int | None
) -> Page[Any]:
    stmt = select(SurveyResponse).where(*response_conditions(project_id, filters))
    return keyset_page(session, stmt, SurveyResponse.id, limit=limit, after=after)


def list_newest_responses(
    session: Session,
    project_id: int,
    filters: ResponseFilters,
    *,
    limit: int,
    older_than: int | None = None,
    newer_than: int | None = None,
    search_window: int | None = None,
) -> Page[Any]:
    """The same responses as `list_responses`, newest answer first (by when they were given;
    ties: last recorded first), paged both ways, each with its person (a feed). The order is
    the one `ix_responses_project_time` (and `ix_responses_person`) keeps, so a page reads about
    as many rows as it shows, also with a period filter at a million answers. With
    `search_window`, a text or property search reads at most that many answers of the period
    per page (`Page.searched_to` says how far back it got)."""
    stmt = (
        select(SurveyResponse)
        .where(*response_conditions(project_id, filters))
        .options(selectinload(SurveyResponse.person))
    )
    window = None
    if search_window is not None and (filters.text or filters.property_name is not None):
        # What the time index selects by itself: the project and the period.
        indexed = ResponseFilters(since=filters.since, until=filters.until)
        window = (
            select(SurveyResponse.id).where(*response_conditions(project_id, indexed)),
            search_window,
        )
    return latest_first_page(
        session,
        stmt,
        SurveyResponse.created_at,
        SurveyResponse.id,
        limit=limit,
        older_than=older_than,
        newer_than=newer_than,
        window=window,
    )
