"""Invitation counters: each survey's invitations per delivery state, read from the rows that
triggers keep (`invitation_counts`, migration 0018), checked against the invitations.

The surveys list shows five counts per survey; counting them from a million invitations costs
seconds, reading them from the counters a few rows per survey. The same reading serves the
API's invitation stats and the team app. A counter written past the triggers (a restore, a
trigger dropped by hand) would disagree silently, so the worker's `invitation_counts` pass
compares one survey's counters with its invitations at a time, the survey checked longest
ago first, and rebuilds the rows of a survey that disagrees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from surveys.models import Invitation, InvitationCount, Survey

BOUNCE_PREFIX = "bounce: "
# A survey's counters are compared with its invitations again after this long.
CHECK_EVERY = timedelta(hours=1)


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


def _bounced() -> ColumnElement[int]:
    """1 for a failure of a refused address: the trigger's CASE in migration 0018."""
    return case((Invitation.error.like(BOUNCE_PREFIX + "%"), 1), else_=0)


def _responded() -> ColumnElement[int]:
    return case((Invitation.responded_at.is_(None), 0), else_=1)


def _from_invitations(survey_ids: Iterable[int]) -> Select[Any]:
    """(survey, kind, status, bounced, responded, invitations) counted from the rows."""
    i = Invitation
    bounced, responded = _bounced(), _responded()
    return (
        select(
            i.survey_id,
            i.kind,
            i.status,
            bounced.label("bounced"),
            responded.label("responded"),
            func.count().label("invitations"),
        )
        .where(i.survey_id.in_(list(survey_ids)))
        .group_by(i.survey_id, i.kind, i.status, bounced, responded)
    )


def _from_counters(survey_ids: Iterable[int]) -> Select[Any]:
    """The same key from the counters, their slots summed."""
    c = InvitationCount
    return (
        select(
            c.survey_id,
            c.kind,
            c.status,
            c.bounced,
            c.responded,
            func.sum(c.invitations).label("invitations"),
        )
        .where(c.survey_id.in_(list(survey_ids)))
        .group_by(c.survey_id, c.kind, c.status, c.bounced, c.responded)
    )


def _fold(rows: Iterable[Any], survey_ids: list[int]) -> dict[int, InvitationCounts]:
    """Per survey: invitations (not reminders) by status, bounced and responded of any
    status, and `response_rate` = responded / sent."""
    tally: dict[int, dict[str, int]] = {s: {} for s in survey_ids}
    for survey_id, kind, status, bounced, responded, invitations in rows:
        if kind != "invite" or not invitations:
            continue
        found = tally[survey_id]
        found[status] = found.get(status, 0) + invitations
        found["bounced"] = found.get("bounced", 0) + invitations * bounced
        found["responded"] = found.get("responded", 0) + invitations * responded
    result = {}
    for survey_id, found in tally.items():
        sent = found.get("sent", 0)
        result[survey_id] = InvitationCounts(
            scheduled=found.get("scheduled", 0),
            sending=found.get("sending", 0),
            sent=sent,
            failed=found.get("failed", 0),
            bounced=found.get("bounced", 0),
            uncertain=found.get("uncertain", 0),
            cancelled=found.get("cancelled", 0),
            responded=found.get("responded", 0),
            response_rate=round(found.get("responded", 0) / sent, 4) if sent else None,
        )
    return result


def read(session: Session, survey_ids: list[int]) -> dict[int, InvitationCounts]:
    """The counts of each survey (ids already checked to be the caller's) from the counters:
    one statement for a page of surveys."""
    if not survey_ids:
        return {}
    return _fold(session.execute(_from_counters(survey_ids)), survey_ids)


def count(session: Session, survey_ids: list[int]) -> dict[int, InvitationCounts]:
    """The same counts from the invitations themselves: what the counters replace, for the
    check and for benchmarks."""
    if not survey_ids:
        return {}
    return _fold(session.execute(_from_invitations(survey_ids)), survey_ids)


def disagrees(session: Session, survey_id: int) -> bool:
    """Whether the survey's counters differ from its invitations, in one statement (one
    snapshot: a writer committing meanwhile cannot make them seem to differ)."""
    return session.scalar(_difference(survey_id)) is not None


def _difference(survey_id: int) -> Select[Any]:
    """One key whose counted invitations differ between the rows and the counters, if any."""
    plus = _from_invitations([survey_id]).subquery()
    minus = _from_counters([survey_id]).subquery()
    key = ("survey_id", "kind", "status", "bounced", "responded")
    signed = union_all(
        select(*[plus.c[k] for k in key], plus.c.invitations.label("n")),
        select(*[minus.c[k] for k in key], (-minus.c.invitations).label("n")),
    ).subquery()
    return (
        select(signed.c.status)
        .group_by(*[signed.c[k] for k in key])
        .having(func.sum(signed.c.n) != 0)
        .limit(1)
    )


def rebuild(session: Session, survey_id: int) -> None:
    """The survey's counters again from its invitations.

    On PostgreSQL the invitations are locked against writers for the moment of the rebuild
    (a rare repair): a trigger committing between the DELETE and the INSERT ... SELECT would
    otherwise be counted twice or lost. SQLite takes its one write lock at the DELETE, before
    the INSERT ... SELECT reads.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE invitations IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(delete(InvitationCount).where(InvitationCount.survey_id == survey_id))
    rows = _from_invitations([survey_id]).subquery()
    session.execute(
        insert(InvitationCount).from_select(
            ["survey_id", "kind", "status", "bounced", "responded", "slot", "invitations"],
            select(
                rows.c.survey_id,
                rows.c.kind,
                rows.c.status,
                rows.c.bounced,
                rows.c.responded,
                literal(0),
                rows.c.invitations,
            ),
        )
    )


def due_for_check(session: Session, now: datetime, limit: int) -> list[int]:
    """Surveys whose counters were never checked or not for CHECK_EVERY, oldest first."""
    s = Survey
    stale = or_(s.counts_checked_at.is_(None), s.counts_checked_at < now - CHECK_EVERY)
    order = (case((s.counts_checked_at.is_(None), 0), else_=1), s.counts_checked_at, s.id)
    return list(session.scalars(select(s.id).where(stale).order_by(*order).limit(limit)))


def check(session: Session, survey_id: int, now: datetime) -> bool:
    """Compare the survey's counters with its invitations, rebuild them when they differ,
    and note the check; returns whether they differed. The caller commits."""
    differed = disagrees(session, survey_id)
    if differed:
        rebuild(session, survey_id)
    # updated_at stays: a check is not an edit of the survey.
    session.execute(
        update(Survey)
        .where(Survey.id == survey_id)
        .values(counts_checked_at=now, updated_at=Survey.updated_at)
    )
    return differed
