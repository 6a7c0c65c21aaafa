"""Answers through an email link: the invitation's context, and recording score or comment.

Both go through `surveys.answers.record_answer` with channel `email` and the invitation, so
one invitation keeps one response: a second score or a comment updates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.answers import Answer, record_answer
from surveys.email.delivery import invite_of, mark_responded
from surveys.email.unsubscribes import unsubscribe
from surveys.errors import Invalid, NotFound
from surveys.models import Invitation, Person, Project, Survey, SurveyResponse


@dataclass(frozen=True)
class LinkContext:
    invitation: Invitation
    person: Person
    survey: Survey
    project: Project
    response: SurveyResponse | None
    # The invitation the response belongs to (`answer_invitation_id`).
    answer_invitation_id: int


def link_context(session: Session, invitation_id: int) -> LinkContext:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("this invitation no longer exists")
    person = session.get(Person, invitation.person_id)
    survey = session.get(Survey, invitation.survey_id)
    project = session.get(Project, invitation.project_id)
    if person is None or survey is None or project is None:
        raise NotFound("this invitation no longer exists")
    # A reminder shares its window with the invitation it follows up: one response for both.
    target = answer_invitation_id(session, invitation)
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == target))
    return LinkContext(invitation, person, survey, project, response, target)


def answer_invitation_id(session: Session, invitation: Invitation) -> int:
    """The invitation a response belongs to: a reminder's answer belongs to its invitation."""
    if invitation.kind != "reminder":
        return invitation.id
    original = session.scalar(select(Invitation.id).where(invite_of(invitation)))
    return original or invitation.id


def answer_by_link(
    session: Session,
    invitation_id: int,
    *,
    score: int | None,
    comment: str | None,
    now: datetime,
) -> SurveyResponse:
    """Record a score (and/or a comment) for an invitation; a comment needs a score first."""
    ctx = link_context(session, invitation_id)
    if score is None and ctx.response is None:
        raise Invalid("choose a score first", {"score": ["required"]})
    target = ctx.answer_invitation_id
    response, _ = record_answer(
        session,
        ctx.project.id,
        ctx.person,
        Answer(
            survey_id=ctx.survey.id,
            score=score,
            channel="email",
            comment=comment,
            locale=ctx.person.locale,
            invitation_id=target,
        ),
        now=now,
    )
    mark_responded(session, target, now)
    if target != ctx.invitation.id:
        mark_responded(session, ctx.invitation.id, now)
    return response


def unsubscribe_by_link(session: Session, invitation_id: int, now: datetime) -> Person:
    ctx = link_context(session, invitation_id)
    return unsubscribe(session, ctx.person, now)
