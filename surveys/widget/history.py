"""A widget visitor and their history, read for the eligibility rules in one statement: the
person's row, and for each survey of the project its rules and the person's answers, displays
and emails. The surveys come even when the person is unknown, so that a first visit reads
once: a person created now has no history. Only a visit to a project with a capped survey
reads a second time, for the day's widget answers.

The day's count has a statement of its own so that the visitor's statement costs PostgreSQL
no planning. psycopg prepares a statement run five times, and the server then plans each run
again (a custom plan) unless the plan made for any values (the generic plan) is estimated no
dearer. Inside the visitor's statement, the count's range over `created_at` made the generic
plan look dearer than the custom ones (a range of unknown bounds is taken to hold a third of
the rows), though the count runs only for a capped survey: the server planned every visit
anew, about 1 ms of its CPU. Without it the generic plan is chosen from the sixth run
(`tests/widget/test_visitor_state.py` checks `pg_prepared_statements`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
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
    """What the statements read: the person (None when unknown), the rows per survey and the
    day's widget answers per capped survey, from which `state_of` builds the state of that
    person or of one created since."""

    person: VisitorRow | None
    rows: list[Any]
    today: dict[int, int]


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


@memo()
def _todays_answers() -> PreparedSelect:
    """The day's widget answers of the project per survey, found by the (project, time)
    index; through a survey's index the count walked every answer the survey ever had."""
    return PreparedSelect(
        select(ANSWERS.c.survey_id, func.count().label("answers"))
        .where(
            ANSWERS.c.project_id == bindparam("project_id", type_=Integer()),
            ANSWERS.c.channel == "widget",
            ANSWERS.c.created_at >= bindparam("midnight", type_=DateTime()),
        )
        .group_by(ANSWERS.c.survey_id)
    )


def visitor_state(
    session: Session, project_id: int, external_id: str, *, now: datetime
) -> VisitorState | None:
    """The person with this external_id and their history per survey; None when unknown.

    The fatigue guard reads the data itself (emails sent, widgets shown, answers) rather than
    another module's state, so it holds whichever door made the contact.
    """
    read = read_visitor(session, project_id, external_id, now=now)
    return None if read.person is None else state_of(read.person, read)


def read_visitor(
    session: Session, project_id: int, external_id: str, *, now: datetime
) -> VisitorRead:
    """One run of the statement (two for a project with a capped survey): the person with
    this external_id (None when unknown) and what `state_of` reads."""
    rows = _statement().rows(session, {"project_id": project_id, "external_id": external_id})
    today: dict[int, int] = {}
    if any(row.daily_response_cap is not None for row in rows):
        midnight = datetime(now.year, now.month, now.day)
        counts = _todays_answers().rows(session, {"project_id": project_id, "midnight": midnight})
        today = {row.survey_id: row.answers for row in counts if row.survey_id is not None}
    if not rows or rows[0].person_id is None:
        return VisitorRead(None, rows, today)
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
    return VisitorRead(person, rows, today)


def state_of(person: VisitorRow, read: VisitorRead) -> VisitorState:
    """The state of `person` from what `read_visitor` read: theirs, or what it read while the
    person was unknown, for a person created since (whose history columns are rightly empty;
    the surveys' rules and the day's answers are the surveys' own)."""
    rows = read.rows
    surveys = [row for row in rows if row.survey_id is not None]
    # Any contact of any survey, by any door: the latest answer, display or email.
    contacts = [rows[0].last_email] if rows else []
    for row in surveys:
        contacts += (row.last_answer, row.last_shown)
    last_contact = _latest(contacts)
    customer_since = person.created_at or person.added_at
    return VisitorState(
        person,
        [
            _survey_state(
                str(person.id), customer_since, row, last_contact, read.today.get(row.survey_id, 0)
            )
            for row in surveys
        ],
    )


def _survey_state(
    person_key: str,
    customer_since: datetime | None,
    row: Any,
    last_contact: datetime | None,
    answers_today: int,
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
        responses_today=answers_today,
    )
    return SurveyState(rules, row.question, row.product_name, history, row.open_id)
