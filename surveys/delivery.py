"""Delivery state of the outbox: claiming batches under a lease, and marking what happened.

A claimed invitation is `sending` until its sender marks it `sent`, `failed`, `cancelled`,
or back to `scheduled` for a retry. A claim whose lease runs out (its dispatcher died) is
marked `uncertain`, never resent: the message may or may not have left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from surveys.errors import NotFound
from surveys.models import Invitation, Person, Survey
from surveys.paging import Page, keyset_page

STATUSES = ("scheduled", "sending", "sent", "failed", "uncertain", "cancelled")
# Minutes to wait before attempt n + 1 after a transient failure; past the last, give up.
BACKOFF_MINUTES = (1, 5, 30, 120, 720)
BOUNCE_PREFIX = "bounce: "


def expire_leases(session: Session, now: datetime) -> int:
    """Claims whose dispatcher died mid-send become `uncertain`: visible, never resent."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.status == "sending", Invitation.lease_until < now)
        .values(
            status="uncertain",
            error="the dispatcher's lease expired before it reported a result",
            updated_at=now,
        )
    )
    return result.rowcount or 0


def claim(
    session: Session, claimer: str, now: datetime, *, limit: int, lease: timedelta
) -> list[Invitation]:
    """Claim up to `limit` due invitations for `claimer` (unique per claim) until now + lease.

    On PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED, so dispatchers
    on several machines take disjoint batches without waiting on each other; SQLite runs one
    writer at a time, and the `status = 'scheduled'` guard in the UPDATE keeps claims apart.
    The caller commits the claim before sending anything.
    """
    if limit <= 0:
        return []
    candidates = (
        select(Invitation.id)
        .where(
            Invitation.status == "scheduled",
            Invitation.due_at <= now,
            or_(Invitation.next_attempt_at.is_(None), Invitation.next_attempt_at <= now),
        )
        .order_by(Invitation.due_at, Invitation.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Select and lock first, then update exactly those: inside `IN (...)` PostgreSQL may
        # evaluate a LIMIT ... SKIP LOCKED subquery more than once and claim too many rows.
        picked: Any = list(session.scalars(candidates.with_for_update(skip_locked=True)))
        if not picked:
            return []
    else:
        # SQLite runs one writing statement at a time: select-and-update in one is atomic.
        picked = candidates.scalar_subquery()
    session.execute(
        update(Invitation)
        .where(Invitation.id.in_(picked), Invitation.status == "scheduled")
        .values(
            status="sending",
            claimed_by=claimer,
            lease_until=now + lease,
            attempts=Invitation.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.claimed_by == claimer, Invitation.status == "sending")
            .order_by(Invitation.due_at, Invitation.id)
            .execution_options(populate_existing=True)
        )
    )


def _finish(invitation: Invitation, status: str, now: datetime, error: str | None) -> None:
    invitation.status = status
    invitation.error = error
    invitation.lease_until = None
    invitation.updated_at = now


def release(session: Session, invitations: Sequence[Invitation], now: datetime) -> None:
    """Give back claims that were not tried (the server was unreachable): no attempt used."""
    for invitation in invitations:
        _finish(invitation, "scheduled", now, invitation.error)
        invitation.claimed_by = None
        invitation.attempts = max(0, invitation.attempts - 1)
    session.flush()


def mark_sent(session: Session, invitation: Invitation, now: datetime, message_id: str) -> None:
    _finish(invitation, "sent", now, None)
    invitation.sent_at = now
    invitation.message_id = message_id
    session.flush()


def mark_retry(session: Session, invitation: Invitation, now: datetime, error: str) -> bool:
    """A transient failure: back to `scheduled` with backoff; returns False once given up."""
    if invitation.attempts > len(BACKOFF_MINUTES):
        _finish(invitation, "failed", now, f"gave up after {invitation.attempts} attempts: {error}")
        session.flush()
        return False
    _finish(invitation, "scheduled", now, error)
    invitation.claimed_by = None
    invitation.next_attempt_at = now + timedelta(minutes=BACKOFF_MINUTES[invitation.attempts - 1])
    session.flush()
    return True


def mark_failed(
    session: Session, invitation: Invitation, now: datetime, error: str, *, bounce: bool
) -> None:
    """A permanent failure; a refused recipient also marks the person bounced (no more mail)."""
    _finish(invitation, "failed", now, (BOUNCE_PREFIX + error) if bounce else error)
    if bounce:
        person = session.get(Person, invitation.person_id)
        if person is not None and person.bounced_at is None:
            person.bounced_at = now
    session.flush()


def mark_uncertain(session: Session, invitation: Invitation, now: datetime, error: str) -> None:
    """The connection dropped after the message was handed over: it may have arrived."""
    _finish(invitation, "uncertain", now, error)
    session.flush()


def mark_cancelled(session: Session, invitation: Invitation, now: datetime, why: str) -> None:
    """Nothing to send any more (unsubscribed or bounced since scheduling, survey closed)."""
    _finish(invitation, "cancelled", now, why)
    session.flush()


def sent_since(session: Session, since: datetime) -> int:
    """Messages sent by every dispatcher since `since`: the shared per-minute cap."""
    return session.scalar(select(func.count()).where(Invitation.sent_at >= since)) or 0


def mark_responded(session: Session, invitation_id: int, now: datetime) -> None:
    invitation = session.get(Invitation, invitation_id)
    if invitation is not None and invitation.responded_at is None:
        invitation.responded_at = now
        session.flush()


def get_invitation(session: Session, project_id: int, invitation_id: int) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.project_id != project_id:
        raise NotFound(f"invitation {invitation_id} not found")
    return invitation


def list_invitations(
    session: Session,
    project_id: int,
    *,
    limit: int,
    after: int | None,
    survey_id: int | None = None,
    status: str | None = None,
    person_id: int | None = None,
) -> Page[Invitation]:
    stmt = select(Invitation).where(Invitation.project_id == project_id)
    if survey_id is not None:
        stmt = stmt.where(Invitation.survey_id == survey_id)
    if status is not None:
        stmt = stmt.where(Invitation.status == status)
    if person_id is not None:
        stmt = stmt.where(Invitation.person_id == person_id)
    return keyset_page(session, stmt, Invitation.id, limit=limit, after=after)


@dataclass(frozen=True)
class InvitationCounts:
    scheduled: int
    sending: int
    sent: int
    failed: int
    bounced: int
    uncertain: int
    cancelled: int
    responded: int
    response_rate: float | None


def counts(session: Session, project_id: int, survey_id: int) -> InvitationCounts:
    """Per-survey outbox counts in one GROUP BY; `bounced` are failures of a refused address,
    `response_rate` = responded / sent (invitations, not reminders)."""
    survey = session.get(Survey, survey_id)
    if survey is None or survey.project_id != project_id:
        raise NotFound(f"survey {survey_id} not found")
    invites = Invitation.kind == "invite"
    bounced = Invitation.error.like(BOUNCE_PREFIX + "%")
    stmt = (
        select(
            Invitation.status,
            func.count(),
            func.sum(case((bounced, 1), else_=0)),
            func.sum(case((Invitation.responded_at.is_not(None), 1), else_=0)),
        )
        .where(Invitation.survey_id == survey_id, invites)
        .group_by(Invitation.status)
    )
    by_status: dict[str, int] = {}
    bounces = responded = 0
    for status, count, bounce_count, responded_count in session.execute(stmt):
        by_status[status] = count
        bounces += bounce_count or 0
        responded += responded_count or 0
    sent = by_status.get("sent", 0)
    return InvitationCounts(
        scheduled=by_status.get("scheduled", 0),
        sending=by_status.get("sending", 0),
        sent=sent,
        failed=by_status.get("failed", 0),
        bounced=bounces,
        uncertain=by_status.get("uncertain", 0),
        cancelled=by_status.get("cancelled", 0),
        responded=responded,
        response_rate=round(responded / sent, 4) if sent else None,
    )
