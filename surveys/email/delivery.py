"""Delivery state of the outbox: claiming batches under a lease, and marking what happened.

A claim reserves invitations for one dispatcher until its lease runs out; they stay
`scheduled`. Right before its SMTP transaction the dispatcher marks one `sending` and
commits, then marks it `sent`, `failed`, `uncertain`, `cancelled`, or back to `scheduled` for
a retry. So when a dispatcher dies, only the message it was sending is `sending`: once the
lease runs out that one turns `uncertain` (it may or may not have left; never resent), and
the claimed invitations it never tried become claimable again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from surveys import events
from surveys.catalog import get_survey
from surveys.database.paging import Page, keyset_page
from surveys.email import invitation_counts
from surveys.email.invitation_counts import BOUNCE_PREFIX, InvitationCounts
from surveys.errors import NotFound
from surveys.memo import memo
from surveys.models import Invitation, Person, Survey

STATUSES = ("scheduled", "sending", "sent", "failed", "uncertain", "cancelled")
# Minutes to wait before attempt n + 1 after a transient failure; past the last, give up.
BACKOFF_MINUTES = (1, 5, 30, 120, 720)
LEASE_EXPIRED = "the dispatcher's lease expired before it reported a result"
# The per-message marks below also take a Connection: a dispatcher writes one transaction
# per message, and a Session's costs about three times a Connection's.
Writer = Session | Connection


@dataclass(frozen=True)
class Claim:
    """A claimed invitation, as the dispatcher needs it (plain values, not a mapped object:
    its state changes by the single-row UPDATEs below)."""

    id: int
    survey_id: int
    person_id: int
    kind: str
    window_key: str
    due_at: datetime
    # Attempts before this one.
    attempts: int
    claimed_by: str


def invite_of(reminder: Invitation | Claim) -> ColumnElement[bool]:
    """Matches the invitation a reminder follows up: same survey, person and window."""
    return and_(
        Invitation.survey_id == reminder.survey_id,
        Invitation.person_id == reminder.person_id,
        Invitation.window_key == reminder.window_key,
        Invitation.kind == "invite",
    )


def retries_left(claim: Claim) -> bool:
    """Whether a transient failure of this attempt is retried (else it is given up)."""
    return claim.attempts + 1 <= len(BACKOFF_MINUTES)


def _free(now: datetime) -> Any:
    """Not under anybody's live claim."""
    return or_(Invitation.lease_until.is_(None), Invitation.lease_until < now)


def expire_leases(session: Session, now: datetime) -> tuple[int, int]:
    """After a dispatcher died: the message it was sending becomes `uncertain` (visible, never
    resent) and its other claims are given back. Returns (uncertain, given back)."""
    expired = session.execute(
        update(Invitation)
        .where(Invitation.status == "sending", Invitation.lease_until < now)
        .values(status="uncertain", error=LEASE_EXPIRED, updated_at=now)
    )
    # Claims of the dead are free to take once their lease has passed anyway (`_free`);
    # clearing them keeps the outbox listing honest about who holds what. Only due rows are
    # ever claimed: `due_at` keeps this to the index's due range, not every scheduled row.
    released = session.execute(
        update(Invitation)
        .where(
            Invitation.status == "scheduled",
            Invitation.due_at <= now,
            Invitation.lease_until < now,
        )
        .values(claimed_by=None, lease_until=None, updated_at=now)
    )
    return expired.rowcount or 0, released.rowcount or 0


def claim(
    session: Session, claimer: str, now: datetime, *, limit: int, lease: timedelta
) -> list[Claim]:
    """Claim up to `limit` due invitations for `claimer` (unique per claim) until now + lease.

    On PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED, so dispatchers
    on several machines take disjoint batches without waiting on each other; SQLite runs one
    writer at a time, and the guards in the UPDATE keep claims apart. The caller commits the
    claim before sending anything.
    """
    if limit <= 0:
        return []
    candidates = (
        select(Invitation.id)
        .where(
            Invitation.status == "scheduled",
            Invitation.due_at <= now,
            or_(Invitation.next_attempt_at.is_(None), Invitation.next_attempt_at <= now),
            _free(now),
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
    rows = session.execute(
        update(Invitation)
        .where(Invitation.id.in_(picked), Invitation.status == "scheduled", _free(now))
        .values(claimed_by=claimer, lease_until=now + lease, updated_at=now)
        .returning(
            Invitation.id,
            Invitation.survey_id,
            Invitation.person_id,
            Invitation.kind,
            Invitation.window_key,
            Invitation.due_at,
            Invitation.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    claims = [Claim(*row, claimed_by=claimer) for row in rows]
    return sorted(claims, key=lambda c: (c.due_at, c.id))


# The per-message statements are built once: an ORM bulk UPDATE costs ~10x a prebuilt Core
# one, and the dispatcher runs two for every message it sends.
_TABLE = Invitation.__table__


def _mine() -> Any:
    return (_TABLE.c.id == bindparam("iid"), _TABLE.c.claimed_by == bindparam("claimer"))


@memo()
def _start_statement() -> Update:
    return (
        update(_TABLE)
        .where(*_mine(), _TABLE.c.status == "scheduled")
        .values(
            status="sending",
            attempts=bindparam("v_attempts"),
            lease_until=bindparam("v_lease_until"),
            updated_at=bindparam("now"),
        )
    )


@memo()
def _finish_statement(*columns: str) -> Update:
    """Ends a claim: status, error and the given columns from parameters `v_<column>`."""
    values = {name: bindparam(f"v_{name}") for name in ("status", "error", *columns)}
    return (
        update(_TABLE)
        .where(*_mine())
        .values(lease_until=None, updated_at=bindparam("now"), **values)
    )


def _finish(
    session: Writer, claim: Claim, now: datetime, status: str, error: str | None, **values: Any
) -> None:
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(iid=claim.id, claimer=claim.claimed_by, now=now, v_status=status, v_error=error)
    session.execute(_finish_statement(*sorted(values)), params)


def start_sending(session: Writer, claim: Claim, now: datetime, lease: timedelta) -> bool:
    """Mark the claim `sending` right before its SMTP transaction (the caller commits first).

    False: the claim is no longer this dispatcher's (its lease ran out and another took the
    invitation): do not send. The lease restarts, so a long batch never expires the message
    in flight.
    """
    result = session.execute(
        _start_statement(),
        {
            "iid": claim.id,
            "claimer": claim.claimed_by,
            "v_attempts": claim.attempts + 1,
            "v_lease_until": now + lease,
            "now": now,
        },
    )
    return bool(result.rowcount)


def release(session: Session, claimer: str, now: datetime) -> int:
    """Give back the claims not tried (the server was unreachable): no attempt used."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.claimed_by == claimer, Invitation.status == "scheduled")
        .values(claimed_by=None, lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def mark_sent(session: Writer, claim: Claim, now: datetime, message_id: str) -> None:
    _finish(session, claim, now, "sent", None, sent_at=now, message_id=message_id)


def mark_retry(session: Writer, claim: Claim, now: datetime, error: str) -> bool:
    """A transient failure: back to `scheduled` with backoff; returns False once given up.
    A try counts as an attempt even when the connection failed before the message began."""
    attempts = claim.attempts + 1
    if not retries_left(claim):
        error = f"gave up after {attempts} attempts: {error}"
        _finish(session, claim, now, "failed", error, attempts=attempts)
        return False
    retry_at = now + timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
    _finish(
        session,
        claim,
        now,
        "scheduled",
        error,
        attempts=attempts,
        claimed_by=None,
        next_attempt_at=retry_at,
    )
    return True


def mark_failed(session: Writer, claim: Claim, now: datetime, error: str, *, bounce: bool) -> None:
    """A permanent failure; a refused recipient also marks the person bounced (no more mail)."""
    _finish(session, claim, now, "failed", (BOUNCE_PREFIX + error) if bounce else error)
    if bounce:
        people = Person.__table__
        session.execute(
            update(people)
            .where(people.c.id == claim.person_id, people.c.bounced_at.is_(None))
            .values(bounced_at=now)
        )
        project_id = session.execute(
            select(Invitation.project_id).where(Invitation.id == claim.id)
        ).scalar_one()
        events.record_on(session, project_id, events.INVITATION_BOUNCED, claim.id, now)


def mark_uncertain(session: Writer, claim: Claim, now: datetime, error: str) -> None:
    """The connection dropped after the message was handed over: it may have arrived."""
    _finish(session, claim, now, "uncertain", error)


def mark_cancelled(session: Writer, claim: Claim, now: datetime, why: str) -> None:
    """Nothing to send any more (unsubscribed or bounced since scheduling, survey closed)."""
    _finish(session, claim, now, "cancelled", why)


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


def counts(session: Session, project_id: int, survey_id: int) -> InvitationCounts:
    """A survey's outbox counts, from the counters kept as invitations change
    (surveys/email/invitation_counts.py): `bounced` are failures of a refused address,
    `response_rate` = responded / sent (invitations, not reminders)."""
    get_survey(session, project_id, survey_id)
    return invitation_counts.read(session, [survey_id])[survey_id]


def counts_of(session: Session, surveys: list[Survey]) -> dict[int, InvitationCounts]:
    """The same counts for a page of the caller's surveys (already read within its project),
    in one statement."""
    return invitation_counts.read(session, [s.id for s in surveys])
