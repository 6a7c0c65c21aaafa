"""Surveys: creation, settings and lookup within a project."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.database.paging import Page, keyset_page
from surveys.errors import Invalid, NotFound
from surveys.models import Survey

CHANNELS = ("email", "widget", "link")
DEFAULT_WINDOW = {"send_window_start": "09:00", "send_window_end": "17:00"}
EDITABLE = (
    "name",
    "product_name",
    "active",
    "channels",
    "question",
    "followup",
    "email_subject",
    "email_intro",
    "cadence_days",
    "first_delay_days",
    "sample_rate",
    "spread_days",
    "send_window_start",
    "send_window_end",
    "reminder_after_days",
    "min_age_days",
    "dismiss_backoff_days",
    "daily_response_cap",
)


def _check(survey: Survey) -> None:
    if (survey.send_window_start is None) != (survey.send_window_end is None):
        raise Invalid(
            "send_window_start and send_window_end are set together (both null: any time)",
            {"send_window_end": ["set both bounds or neither"]},
        )
    if survey.send_window_start and survey.send_window_start >= survey.send_window_end:
        raise Invalid(
            "send_window_start must be before send_window_end",
            {"send_window_end": ["must be after send_window_start"]},
        )


def _apply(survey: Survey, data: dict[str, Any]) -> None:
    for name in EDITABLE:
        if name in data:
            setattr(survey, name, data[name])
    if "send_window" in data:
        _set_window(survey, data["send_window"])
    _check(survey)


def create_survey(session: Session, project_id: int, data: dict[str, Any]) -> Survey:
    survey = Survey(project_id=project_id, **DEFAULT_WINDOW)
    _apply(survey, data)
    session.add(survey)
    session.flush()
    return survey


def _set_window(survey: Survey, window: dict[str, str] | None) -> None:
    survey.send_window_start = window["start"] if window else None
    survey.send_window_end = window["end"] if window else None


def get_survey(session: Session, project_id: int, survey_id: int) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None or survey.project_id != project_id:
        raise NotFound(f"survey {survey_id} not found")
    return survey


def update_survey(
    session: Session, project_id: int, survey_id: int, data: dict[str, Any]
) -> Survey:
    survey = get_survey(session, project_id, survey_id)
    _apply(survey, data)
    session.flush()
    return survey


def list_surveys(
    session: Session, project_id: int, *, limit: int, after: int | None, active: bool | None
) -> Page[Survey]:
    stmt = select(Survey).where(Survey.project_id == project_id)
    if active is not None:
        stmt = stmt.where(Survey.active == active)
    return keyset_page(session, stmt, Survey.id, limit=limit, after=after)
