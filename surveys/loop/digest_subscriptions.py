"""Who gets a digest and when: opting in and out, the due subscriptions, and one claimed send
per subscription and period.

A digest covers the last complete week or month in the project's time zone. The send row is
inserted (INSERT ... ON CONFLICT DO NOTHING) and committed before the message goes out, so
however many passes or workers run, one of them owns a period; if that one dies while
sending, the period stays `sending` and is not sent again (at most once, as survey mail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.database.inserts import insert_or_ignore
from surveys.errors import Invalid, NotFound
from surveys.models import (
    DigestSend,
    DigestSubscription,
    Membership,
    Project,
    SurveyResponse,
    User,
)
from surveys.periods import Period, last_complete_periods

# The digest's cadence and the period unit it summarises.
CADENCES = {"weekly": "week", "monthly": "month"}


def unit_of(cadence: str) -> str:
    return CADENCES[cadence]


def covered_period(now: datetime, cadence: str, time_zone: str) -> Period:
    """The last complete week or month before `now`: what a digest sent now reports on."""
    return last_complete_periods(now, unit_of(cadence), time_zone, 1)[0]


def get_subscription(session: Session, user_id: int, project_id: int) -> DigestSubscription | None:
    return session.scalars(
        select(DigestSubscription).where(
            DigestSubscription.user_id == user_id, DigestSubscription.project_id == project_id
        )
    ).one_or_none()


def set_cadence(
    session: Session, user_id: int, project_id: int, cadence: str | None
) -> DigestSubscription | None:
    """Opt in (weekly or monthly) or out (None). Opting in again keeps what was covered, so
    a returning subscriber is not sent a period twice."""
    if cadence is not None and cadence not in CADENCES:
        raise Invalid(f"unknown cadence {cadence!r}", {"cadence": ["weekly or monthly"]})
    subscription = get_subscription(session, user_id, project_id)
    if cadence is None:
        if subscription is not None:
            subscription.active = False
        return subscription
    if subscription is None:
        subscription = DigestSubscription(user_id=user_id, project_id=project_id, cadence=cadence)
        session.add(subscription)
    subscription.cadence = cadence
    subscription.active = True
    session.flush()
    return subscription


def unsubscribe(session: Session, subscription_id: int) -> DigestSubscription:
    """The one-click link: idempotent, so a second click or a mail client's POST is fine."""
    subscription = session.get(DigestSubscription, subscription_id)
    if subscription is None:
        raise NotFound("this digest subscription no longer exists")
    subscription.active = False
    session.flush()
    return subscription


@dataclass(frozen=True)
class Due:
    subscription: DigestSubscription
    user: User
    project: Project
    role: str
    period: Period


def due_subscriptions(session: Session, now: datetime) -> list[Due]:
    """Active subscriptions of current members whose last complete period has no send yet."""
    rows = session.execute(
        select(DigestSubscription, User, Project, Membership.role)
        .join(User, User.id == DigestSubscription.user_id)
        .join(Project, Project.id == DigestSubscription.project_id)
        # A member removed from the project keeps their row but gets nothing more.
        .join(
            Membership,
            (Membership.user_id == DigestSubscription.user_id)
            & (Membership.project_id == DigestSubscription.project_id),
        )
        .where(DigestSubscription.active.is_(True))
        .order_by(DigestSubscription.id)
    ).all()
    candidates = [
        Due(sub, user, project, role, covered_period(now, sub.cadence, project.time_zone))
        for sub, user, project, role in rows
    ]
    if not candidates:
        return []
    done = set(
        session.execute(
            select(DigestSend.subscription_id, DigestSend.period).where(
                DigestSend.subscription_id.in_([d.subscription.id for d in candidates])
            )
        ).tuples()
    )
    return [d for d in candidates if (d.subscription.id, d.period.label) not in done]


def claim(session: Session, subscription_id: int, period: Period, now: datetime) -> int | None:
    """The send row's id for this period, or None when another pass or worker has it
    already."""
    claimed = insert_or_ignore(
        session,
        DigestSend(
            subscription_id=subscription_id, period=period.label, status="sending", created_at=now
        ),
    )
    return None if claimed is None else claimed.id


def new_feedback(session: Session, subscription: DigestSubscription, period: Period) -> int:
    """Answers (scores or comments) that arrived since the last sent digest's period, up to
    the end of this one: none, and the digest pauses."""
    since = subscription.covered_until or period.start
    return session.scalar(
        select(func.count()).where(
            SurveyResponse.project_id == subscription.project_id,
            SurveyResponse.created_at >= since,
            SurveyResponse.created_at < period.end,
        )
    )


def finish(
    session: Session,
    send_id: int,
    subscription: DigestSubscription,
    period: Period,
    status: str,
    now: datetime,
    error: str | None = None,
) -> None:
    send = session.get(DigestSend, send_id)
    if send is None:
        raise NotFound(f"digest send {send_id} not found")
    send.status, send.error, send.finished_at = status, error, now
    if status == "sent":
        subscription.covered_until = period.end
        subscription.last_sent_at = now
    session.flush()


def release(session: Session, send_id: int) -> None:
    """Give a claimed period back (nothing was handed over: the server was unreachable or
    deferred it), so that a later pass sends it."""
    send = session.get(DigestSend, send_id)
    if send is not None:
        session.delete(send)
        session.flush()
