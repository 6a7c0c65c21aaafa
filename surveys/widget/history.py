"""A widget visitor and their history, read for the eligibility rules in one statement: the
person's row, and for each survey of the project its rules and the person's answers, displays
and emails, plus the day's widget answers of capped surveys. The surveys come even when the
person is unknown, so that a first visit reads once: a person created now has no history."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.orm import Session

from surveys.database.prepared import PreparedSelect
from surveys.memo import memo
from surveys.models import Display, Invitation, Person, Project, Survey, SurveyResponse
from surveys.widget import eligibility

PEOPLE, SURVEYS, PROJECTS = Person.__table__, Survey.__table__, Project.__table__
ANSWERS, DISPLAYS, EMAILS = SurveyResponse.__table__, Display.__table__, Invitation.__table__


class VisitorRow(NamedTuple):
    """The person's columns a visit compares or reads; named as on `Person`."""

    id: int
    external_id: str
    email: str | None
    name: str | None
    locale: str | None
    created_at: datetime | None
    added_at: datetime | None
    properties: dict[str, Any] | None
    anonymous: bool
    trusted: bool


class SurveyState(NamedTuple):
    """One survey of the project as the widget sees it for one person."""

    rules: eligibility.SurveyRules
    question: dict[str, Any] | None
    product_name: str | None
    history: eligibility.History
    open_display_id: int | None


class VisitorState(NamedTuple):
    person: VisitorRow
    surveys: list[SurveyState]  # by id


class VisitorRead(NamedTuple):
    """What the statement read: the person (None when unknown) and the rows per survey, from
    which `state_of` builds the state of that person or of one created since."""

    person: VisitorRow | None
    rows: list[Any]


def _latest(moments: list[datetime | None]) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


@memo()
def _statement() -> PreparedSelect:
    """The project LEFT JOIN the person LEFT JOIN the project's surveys, one row per survey (one
    row of nulls when there is none), each with the person's history as correlated subqueries
    that the (survey, person, time) and (person, time) indexes answer. The project's row
    anchors the join: an unknown person still gets the surveys' rows, their columns null and
    their history empty. Built once: constructing it costs more than running it."""
    person = PEOPLE.c.id
    survey = SURVEYS.c.id

    def latest(column, *where):
        return select(func.max(column)).where(*where).scalar_subquery()

    answered = and_(ANSWERS.c.survey_id == survey, ANSWERS.c.person_id == person)
    shown = and_(DISPLAYS.c.person_id == person, DISPLAYS.c.survey_id == survey)
    still_open = and_(shown, DISPLAYS.c.dismissed_at.is_(None), DISPLAYS.c.responded_at.is_(None))
    # Today's answers of the project, found by the (project, time) index; without the project
    # the count walked every answer ever stored, on each visit of a capped survey.
    answers_today = (
        select(func.count())
        .where(
            ANSWERS.c.project_id == PROJECTS.c.id,
            ANSWERS.c.survey_id == survey,
            ANSWERS.c.channel == "widget",
            ANSWERS.c.created_at >= bindparam("midnight", type_=DateTime()),
        )
        .scalar_subquery()
    )
    statement = (
        select(
            person.label("person_id"),
            PEOPLE.c.email,
            PEOPLE.c.name,
            PEOPLE.c.locale,
            PEOPLE.c.created_at,
            PEOPLE.c.added_at,
            PEOPLE.c.properties,
            PEOPLE.c.anonymous,
            PEOPLE.c.trusted,
            latest(EMAILS.c.sent_at, EMAILS.c.person_id == person).label("last_email"),
            survey.label("survey_id"),
            SURVEYS.c.active,
            SURVEYS.c.channels,
            SURVEYS.c.min_age_days,
            SURVEYS.c.cadence_days,
            SURVEYS.c.dismiss_backoff_days,
            SURVEYS.c.sample_rate,
            SURVEYS.c.daily_response_cap,
            SURVEYS.c.question,
            SURVEYS.c.product_name,
            latest(ANSWERS.c.created_at, answered, ANSWERS.c.score.is_not(None)).label(
                "last_scored"
            ),
            latest(ANSWERS.c.created_at, answered).label("last_answer"),
            latest(DISPLAYS.c.dismissed_at, shown).label("last_dismissal"),
            latest(DISPLAYS.c.created_at, shown).label("last_shown"),
            latest(DISPLAYS.c.created_at, still_open).label("open_at"),
            latest(DISPLAYS.c.id, still_open).label("open_id"),
            case((SURVEYS.c.daily_response_cap.is_not(None), answers_today)).label("today"),
        )
        .select_from(
            PROJECTS.outerjoin(
                PEOPLE,
                and_(
                    PEOPLE.c.project_id == PROJECTS.c.id,
                    PEOPLE.c.external_id == bindparam("external_id", type_=String()),
                ),
            ).outerjoin(SURVEYS, SURVEYS.c.project_id == PROJECTS.c.id)
        )
        .where(PROJECTS.c.id == bindparam("project_id", type_=Integer()))
        .order_by(survey)
    )
    return PreparedSelect(statement)


def visitor_state(
    session: Session, project_id: int, external_id: str, *, now: datetime
) -> VisitorState | None:
    """The person with this external_id and their history per survey; None when unknown.

    The fatigue guard reads the data itself (emails sent, widgets shown, answers) rather than
    another module's state, so it holds whichever door made the contact.
    """
    read = read_visitor(session, project_id, external_id, now=now)
    return None if read.person is None else state_of(read.person, read.rows)


def read_visitor(
    session: Session, project_id: int, external_id: str, *, now: datetime
) -> VisitorRead:
    """One run of the statement: the person with this external_id (None when unknown) and
    the rows `state_of` reads."""
    params = {
        "project_id": project_id,
        "external_id": external_id,
        "midnight": datetime(now.year, now.month, now.day),
    }
    rows = _statement().rows(session, params)
    if not rows or rows[0].person_id is None:
        return VisitorRead(None, rows)
    first = rows[0]
    person = VisitorRow(
        id=first.person_id,
        external_id=external_id,
        email=first.email,
        name=first.name,
        locale=first.locale,
        created_at=first.created_at,
        added_at=first.added_at,
        properties=first.properties,
        anonymous=first.anonymous,
        trusted=first.trusted,
    )
    return VisitorRead(person, rows)


def state_of(person: VisitorRow, rows: list[Any]) -> VisitorState:
    """The state of `person` from rows `read_visitor` read: theirs, or those read while the
    person was unknown, for a person created since (whose history columns are rightly empty;
    the surveys' rules and the day's answers are the surveys' own)."""
    surveys = [row for row in rows if row.survey_id is not None]
    # Any contact of any survey, by any door: the latest answer, display or email.
    contacts = [rows[0].last_email] if rows else []
    for row in surveys:
        contacts += (row.last_answer, row.last_shown)
    last_contact = _latest(contacts)
    customer_since = person.created_at or person.added_at
    return VisitorState(
        person,
        [_survey_state(str(person.id), customer_since, row, last_contact) for row in surveys],
    )


def _survey_state(
    person_key: str, customer_since: datetime | None, row: Any, last_contact: datetime | None
) -> SurveyState:
    rules = eligibility.SurveyRules(
        survey_id=row.survey_id,
        active=row.active,
        channels=tuple(row.channels or ()),
        min_age_days=row.min_age_days,
        cadence_days=row.cadence_days,
        dismiss_backoff_days=row.dismiss_backoff_days,
        sample_rate=row.sample_rate,
        daily_response_cap=row.daily_response_cap,
    )
    history = eligibility.History(
        person_key=person_key,
        customer_since=customer_since,
        last_answer_at=row.last_scored,
        last_dismissal_at=row.last_dismissal,
        last_contact_at=last_contact,
        open_display_at=row.open_at,
        responses_today=row.today or 0,
    )
    return SurveyState(rules, row.question, row.product_name, history, row.open_id)
