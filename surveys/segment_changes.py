"""person.segment_changed: a person's counted segment in a quarter now differs from the one
counted for them in the quarter before.

Read around the period-answer upkeep of one answer: the quarter's counted segment before it,
after it, and the previous quarter's. Only when someone listens (two small key reads on the
period-answer primary key), so an unwatched project pays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import events
from surveys.models import PeriodAnswer, SurveyResponse
from surveys.periods import period_of, previous_period
from surveys.segments import segment_of

# The period movement is read in by default; a month's change follows from the quarter's.
UNIT = "quarter"


@dataclass(frozen=True)
class Watch:
    project_id: int
    survey_id: int
    person_id: int
    period: str
    previous: str
    before: str | None


def _counted(session: Session, survey_id: int, period: str, person_id: int) -> str | None:
    score = session.scalar(
        select(PeriodAnswer.score).where(
            PeriodAnswer.survey_id == survey_id,
            PeriodAnswer.unit == UNIT,
            PeriodAnswer.period == period,
            PeriodAnswer.person_id == person_id,
        )
    )
    segment = segment_of(score)
    return segment.value if segment is not None else None


def watch(
    session: Session,
    project_id: int,
    time_zone: str,
    survey_id: int | None,
    person_id: int,
    created_at: datetime,
) -> Watch | None:
    """Before an answer is counted: None when nobody listens or it cannot count."""
    if survey_id is None or not events.wanted(session, project_id, events.SEGMENT_CHANGED):
        return None
    current = period_of(created_at, UNIT, time_zone)
    previous = previous_period(current, UNIT, time_zone)
    session.flush()
    return Watch(
        project_id,
        survey_id,
        person_id,
        current.label,
        previous.label,
        _counted(session, survey_id, current.label, person_id),
    )


def settle(session: Session, seen: Watch | None, response: SurveyResponse, now: datetime) -> bool:
    """After the answer was counted: append the event when the quarter's segment changed and
    now differs from the previous quarter's; returns whether it did."""
    if seen is None:
        return False
    after = _counted(session, seen.survey_id, seen.period, seen.person_id)
    if after == seen.before or after is None:
        return False
    earlier = _counted(session, seen.survey_id, seen.previous, seen.person_id)
    if earlier is None or earlier == after:
        return False
    events.append(
        session,
        seen.project_id,
        events.SEGMENT_CHANGED,
        seen.person_id,
        now,
        {
            "survey_id": seen.survey_id,
            "unit": UNIT,
            "period": seen.period,
            "previous_period": seen.previous,
            "previous_segment": earlier,
            "segment": after,
            "response_id": response.id,
        },
    )
    return True
