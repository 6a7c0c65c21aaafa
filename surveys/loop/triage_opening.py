"""Opening follow-ups by themselves: detractors and downward movers of projects that have
follow-up turned on.

The opening pass walks each such project's responses past its cursor in id order. A response
opens a follow-up when it counts (scored, not excluded, to a survey) and is a detractor, or
moved down against the same person's previous counted answer to the same survey. The
follow-up is keyed on the response id and inserted with ON CONFLICT DO NOTHING, and the cursor
only moves forward, so the pass is idempotent and several workers may run it at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, aliased

from surveys.accounts.users import normalise_email
from surveys.database.inserts import insert_rows_or_ignore
from surveys.loop.triage_followup import due_at
from surveys.models import (
    FollowUp,
    FollowUpSettings,
    Membership,
    Person,
    SurveyResponse,
    User,
)
from surveys.segments import Movement, Segment, movement_between, rank_of, segment_of

BATCH = 500


def enabled_projects(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(FollowUpSettings.project_id).where(FollowUpSettings.enabled.is_(True))
        )
    )


def _previous_score() -> Any:
    """The score of the same person's previous counted answer to the same survey (the order of
    `response_context.previous_scores`), correlated to the outer response."""
    r, prev = SurveyResponse, aliased(SurveyResponse)
    return (
        select(prev.score)
        .where(
            prev.survey_id == r.survey_id,
            prev.person_id == r.person_id,
            prev.score.is_not(None),
            prev.excluded.is_(False),
            or_(
                prev.created_at < r.created_at,
                and_(prev.created_at == r.created_at, prev.id < r.id),
            ),
        )
        .order_by(prev.created_at.desc(), prev.id.desc())
        .limit(1)
        .correlate(r)
        .scalar_subquery()
    )


def opens(score: int | None, previous: int | None) -> bool:
    """Whether an answer opens a follow-up: a detractor, or a move down."""
    if score is None:
        return False
    if segment_of(score) is Segment.DETRACTOR:
        return True
    return movement_between(rank_of(previous), rank_of(score)) is Movement.DOWN


def _members_by_email(session: Session, project_id: int) -> dict[str, int]:
    rows = session.execute(
        select(User.email, User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id)
    )
    return {email: user_id for email, user_id in rows}


def _owner(
    prop: str | None, snapshot: dict[str, Any], current: dict[str, Any], members: dict[str, int]
) -> int | None:
    if not prop:
        return None
    value = snapshot.get(prop) if prop in (snapshot or {}) else (current or {}).get(prop)
    if not isinstance(value, str):
        return None
    return members.get(normalise_email(value))


def open_follow_ups(session: Session, project_id: int, now: datetime, batch: int = BATCH) -> int:
    """Look at the next batch of the project's responses; returns how many were looked at."""
    settings = session.get(FollowUpSettings, project_id)
    if settings is None or not settings.enabled:
        return 0
    r = SurveyResponse
    rows = session.execute(
        select(r.id, r.score, r.properties, Person.properties, _previous_score())
        .join(Person, Person.id == r.person_id)
        .where(
            r.project_id == project_id,
            r.id > settings.scanned_until_id,
            r.survey_id.is_not(None),
            r.score.is_not(None),
            r.excluded.is_(False),
        )
        .order_by(r.id)
        .limit(batch)
    ).all()
    if not rows:
        return 0
    members = _members_by_email(session, project_id) if settings.owner_property else {}
    new = [
        {
            "response_id": rid,
            "project_id": project_id,
            "status": "new",
            "source": "auto",
            "owner_id": _owner(settings.owner_property, snap, current, members),
            "opened_at": now,
            "updated_at": now,
            "due_at": due_at(settings, score, now),
        }
        for rid, score, snap, current, previous in rows
        if opens(score, previous)
    ]
    insert_rows_or_ignore(session, FollowUp, new)
    last = rows[-1][0]
    # Forward only: a slower worker finishing an older batch never moves the cursor back.
    session.execute(
        update(FollowUpSettings)
        .where(
            FollowUpSettings.project_id == project_id,
            FollowUpSettings.scanned_until_id < last,
        )
        .values(scanned_until_id=last)
    )
    return len(rows)
