"""Erasing a person (the right to erasure): their rows, and every copy of their words.

Their answers, period rows, displays and invitations are deleted; their comments are first
taken out of stored themes and saved models (`surveys.themes.erasure`). The person row is
locked before anything else, the order every writer on a person keeps
(`surveys.person_locks`), so an erasure racing answers and edits neither deadlocks with them
nor leaves a row pointing at nobody.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveys import period_answers
from surveys.models import (
    Display,
    Invitation,
    Person,
    SurveyResponse,
    ThemeAssignment,
)
from surveys.person_locks import lock_person_for_erasure
from surveys.themes.erasure import forget_comments


def erase_person(session: Session, project_id: int, person_id: int, *, now: datetime) -> None:
    """Erase a person and everything of theirs; NotFound when there is no such person."""
    lock_person_for_erasure(session, project_id, person_id, now=now)
    r = SurveyResponse
    # Locked too: a theme fit or assignment pass still writing rows that point at these
    # answers is waited for, so that its themes are among those cleaned below.
    response_ids = session.scalars(
        select(r.id).where(r.person_id == person_id).with_for_update()
    ).all()
    forget_comments(session, project_id, response_ids, now=now)
    theirs = select(r.id).where(r.person_id == person_id)
    session.execute(delete(ThemeAssignment).where(ThemeAssignment.response_id.in_(theirs)))
    period_answers.forget_person(session, person_id)
    session.execute(delete(r).where(r.person_id == person_id))
    session.execute(delete(Display).where(Display.person_id == person_id))
    session.execute(delete(Invitation).where(Invitation.person_id == person_id))
    session.execute(delete(Person).where(Person.id == person_id))
    session.flush()
