"""A widget visitor's history, read for the eligibility rules in one round trip: answers,
displays and emails of the person, and the day's widget answers of capped surveys."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import (
    CompoundSelect,
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from surveys import eligibility
from surveys.models import Display, Invitation, Person, Survey, SurveyResponse


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


@functools.cache
def _history_statement() -> CompoundSelect:
    """One round trip: (kind, survey_id, t1, t2, t3, display_id) per survey for answers
    ('a': last scored, last any) and displays ('d': last dismissal, last open, last shown,
    latest open id), and the last email sent ('i'). Built once: constructing it costs more
    than running it."""
    person_id = bindparam("person_id", type_=Integer())
    when = DateTime()
    no_time = type_coerce(null(), when)
    no_id = type_coerce(null(), Integer())
    is_open = and_(Display.dismissed_at.is_(None), Display.responded_at.is_(None))
    answers = (
        select(
            literal("a"),
            SurveyResponse.survey_id,
            type_coerce(
                func.max(case((SurveyResponse.score.is_not(None), SurveyResponse.created_at))),
                when,
            ),
            type_coerce(func.max(SurveyResponse.created_at), when),
            no_time,
            no_id,
        )
        .where(SurveyResponse.person_id == person_id, SurveyResponse.survey_id.is_not(None))
        .group_by(SurveyResponse.survey_id)
    )
    displays = (
        select(
            literal("d"),
            Display.survey_id,
            func.max(Display.dismissed_at),
            func.max(case((is_open, Display.created_at))),
            func.max(Display.created_at),
            func.max(case((is_open, Display.id))),
        )
        .where(Display.person_id == person_id)
        .group_by(Display.survey_id)
    )
    emails = select(
        literal("i"), no_id, func.max(Invitation.sent_at), no_time, no_time, no_id
    ).where(Invitation.person_id == person_id)
    return union_all(answers, displays, emails)


def histories(
    session: Session, person: Person, surveys: list[Survey], *, now: datetime
) -> tuple[dict[int, eligibility.History], dict[int, int]]:
    """The person's history per survey, and their open display per survey.

    The fatigue guard reads the data itself (emails sent, widgets shown, answers) rather than
    another module's state, so it holds whichever door made the contact.
    """
    answered: dict[int, datetime | None] = {}
    shown: dict[int, tuple[datetime | None, datetime | None, int | None]] = {}
    contacts: list[datetime | None] = []
    rows = session.execute(_history_statement(), {"person_id": person.id})
    for kind, survey_id, t1, t2, t3, display_id in rows:
        if kind == "a":
            answered[survey_id] = t1
            contacts.append(t2)
        elif kind == "d":
            shown[survey_id] = (t1, t2, display_id)
            contacts.append(t3)
        else:
            contacts.append(t1)
    capped = [s.id for s in surveys if s.daily_response_cap is not None]
    today: dict[int, int] = {}
    if capped:
        midnight = datetime(now.year, now.month, now.day)
        today = dict(
            session.execute(
                select(SurveyResponse.survey_id, func.count())
                .where(
                    SurveyResponse.survey_id.in_(capped),
                    SurveyResponse.channel == "widget",
                    SurveyResponse.created_at >= midnight,
                )
                .group_by(SurveyResponse.survey_id)
            ).all()
        )
    last_contact = _latest(*contacts)
    result = {}
    for survey in surveys:
        dismissed, opened, _ = shown.get(survey.id, (None, None, None))
        result[survey.id] = eligibility.History(
            person_key=str(person.id),
            customer_since=person.created_at or person.added_at,
            last_answer_at=answered.get(survey.id),
            last_dismissal_at=dismissed,
            last_contact_at=last_contact,
            open_display_at=opened,
            responses_today=today.get(survey.id, 0),
        )
    open_ids = {sid: row[2] for sid, row in shown.items() if row[2] is not None}
    return result, open_ids
