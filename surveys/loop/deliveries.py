"""Webhook deliveries: events fanned out to matching webhooks, claims under a lease, and what
each attempt did (success, a retry on the schedule, a failure; disabling a dead endpoint).

At least once: a claim is committed `sending` with a lease before anything is sent; if its
worker dies, the lease runs out and the delivery is claimed and sent again, with the same
`webhook-id` and body, so the receiver can tell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.loop import listeners, signing
from surveys.loop.webhooks import TEST_EVENT, body
from surveys.models import Delivery, Event, Webhook

# Seconds to wait before attempt n + 1 after a retryable failure: the first two within a
# minute, then hours apart; 27.6 hours in all (the spec asks for at least a day). Past the
# last, the delivery has failed and the webhook is disabled.
RETRY_SCHEDULE = (5, 30, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
# Deliveries that ended failed in a row (4xx answers never retry) before disabling too.
DISABLE_AFTER_FAILED = 20
FAN_OUT_BATCH = 500


@dataclass(frozen=True)
class Rendered:
    """An event's `data` (the API's JSON of its object) and the facts filters look at."""

    data: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)
    # Whose personal data `data` holds (erasing them deletes the delivery).
    person_id: int | None = None


# Renders a batch of events (the web layer's schemas know the JSON): id -> Rendered, or no
# entry when the object is gone (an erased person's answer is not sent).
Render = Callable[[Session, Sequence[Event]], dict[int, Rendered]]


def matches(webhook: Webhook, event_type: str, facts: dict[str, Any]) -> bool:
    """A filter applies to events that carry its fact: a survey filter passes an unsubscribe
    (no survey), and a score range needs a score."""
    if event_type not in (webhook.events or ()):
        return False
    for name in ("survey_id", "segment"):
        wanted = getattr(webhook, name)
        if wanted is not None and name in facts and facts[name] != wanted:
            return False
    if (webhook.score_min is not None or webhook.score_max is not None) and "score" in facts:
        score = facts["score"]
        if score is None:
            return False
        if webhook.score_min is not None and score < webhook.score_min:
            return False
        if webhook.score_max is not None and score > webhook.score_max:
            return False
    return True


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def fan_out(session: Session, now: datetime, render: Render, *, limit: int = FAN_OUT_BATCH) -> int:
    """Turn up to `limit` outbox events into deliveries and delete them; returns how many
    events were taken. The caller commits: deliveries and deletion land together."""
    stmt = select(Event).order_by(Event.id).limit(limit)
    if _is_postgresql(session):
        stmt = stmt.with_for_update(skip_locked=True)
    taken = list(session.scalars(stmt))
    if not taken:
        return 0
    hooks: dict[int, list[Webhook]] = {}
    for hook in session.scalars(
        select(Webhook)
        .where(Webhook.project_id.in_({e.project_id for e in taken}), Webhook.active.is_(True))
        .order_by(Webhook.id)
    ):
        hooks.setdefault(hook.project_id, []).append(hook)
    rendered = render(session, [e for e in taken if hooks.get(e.project_id)])
    rows = []
    for event in taken:
        found = rendered.get(event.id)
        if found is None:
            continue
        project_hooks = hooks.get(event.project_id, ())
        targets = [h for h in project_hooks if matches(h, event.type, found.facts)]
        if not targets:
            continue
        payload = body(event.type, event.created_at, found.data)
        rows.extend(
            {
                "webhook_id": hook.id,
                "project_id": event.project_id,
                "person_id": found.person_id,
                "event_id": event.id,
                "event_type": event.type,
                "msg_id": signing.new_msg_id(),
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for hook in targets
        )
    if rows:
        insert = postgresql.insert if _is_postgresql(session) else sqlite.insert
        # Two workers fanning out the same event (SQLite has no SKIP LOCKED) make one row.
        session.execute(
            insert(Delivery).on_conflict_do_nothing(index_elements=["webhook_id", "event_id"]),
            rows,
        )
    session.execute(delete(Event).where(Event.id.in_([e.id for e in taken])))
    return len(taken)


@dataclass(frozen=True)
class Attempt:
    """A claimed delivery, as the sender needs it (plain values)."""

    id: int
    webhook_id: int
    project_id: int
    url: str
    sealed_secret: str
    msg_id: str
    payload: str
    # Including this one.
    attempts: int
    claimed_by: str


def _due(now: datetime) -> Any:
    d = Delivery
    return or_(
        (d.status == "pending") & (d.next_attempt_at <= now),
        # A worker died mid-delivery: its lease ran out, send again (at least once).
        (d.status == "sending") & (d.lease_until < now),
    )


def claim(
    session: Session, claimer: str, now: datetime, *, limit: int, lease: timedelta
) -> list[Attempt]:
    """Claim up to `limit` due deliveries of active webhooks (test events of paused ones too)
    until now + lease; the caller commits before sending. FOR UPDATE SKIP LOCKED on
    PostgreSQL; on SQLite one writer at a time, and the UPDATE's guards keep claims apart."""
    d, w = Delivery, Webhook
    candidates = (
        select(d.id)
        .join(w, w.id == d.webhook_id)
        .where(_due(now), or_(w.active.is_(True), d.event_type == TEST_EVENT))
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
    )
    if _is_postgresql(session):
        picked: Any = list(session.scalars(candidates.with_for_update(skip_locked=True, of=d)))
        if not picked:
            return []
    else:
        picked = candidates.scalar_subquery()
    ids = list(
        session.scalars(
            update(d)
            .where(d.id.in_(picked), _due(now))
            .values(
                status="sending",
                claimed_by=claimer,
                lease_until=now + lease,
                attempts=d.attempts + 1,
                last_attempt_at=now,
                updated_at=now,
            )
            .returning(d.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not ids:
        return []
    rows = session.execute(
        select(d.id, d.webhook_id, d.project_id, w.url, w.secret, d.msg_id, d.payload, d.attempts)
        .join(w, w.id == d.webhook_id)
        .where(d.id.in_(ids))
        .order_by(d.next_attempt_at, d.id)
    )
    return [Attempt(*row, claimed_by=claimer) for row in rows]


@dataclass(frozen=True)
class Outcome:
    """What one attempt did. `retry`: a timeout, a connection failure, 408, 429 or 5xx."""

    ok: bool
    retry: bool
    response_code: int | None
    latency_ms: int | None
    error: str | None = None


# Not sent this pass (its lane ran out of time): back to pending, no attempt used.
UNTRIED = Outcome(False, True, None, None, None)


@dataclass(frozen=True)
class Disabled:
    webhook_id: int
    project_id: int
    url: str
    reason: str


_T = Delivery.__table__


def _finish_statement() -> Any:
    c = _T.c
    return (
        update(_T)
        .where(c.id == bindparam("did"), c.claimed_by == bindparam("claimer"))
        .values(
            status=bindparam("v_status"),
            next_attempt_at=bindparam("v_next"),
            response_code=bindparam("v_code"),
            latency_ms=bindparam("v_latency"),
            error=bindparam("v_error"),
            claimed_by=None,
            lease_until=None,
            updated_at=bindparam("now"),
        )
    )


def _untried_statement() -> Any:
    c = _T.c
    return (
        update(_T)
        .where(c.id == bindparam("did"), c.claimed_by == bindparam("claimer"))
        .values(
            status="pending",
            attempts=c.attempts - 1,
            next_attempt_at=bindparam("now"),
            claimed_by=None,
            lease_until=None,
            updated_at=bindparam("now"),
        )
    )


def record(
    session: Session, results: Sequence[tuple[Attempt, Outcome]], now: datetime
) -> list[Disabled]:
    """Store every attempt's outcome in one statement per kind; returns the webhooks this
    disabled (the caller tells their owners). A delivery whose lease was lost meanwhile is
    left to whoever holds it now."""
    params, succeeded, failed, exhausted, untried = [], set(), [], {}, []
    for attempt, outcome in results:
        if outcome is UNTRIED:
            untried.append({"did": attempt.id, "claimer": attempt.claimed_by, "now": now})
            continue
        if outcome.ok:
            status, retry_at = "succeeded", None
            succeeded.add(attempt.webhook_id)
        elif outcome.retry and attempt.attempts < MAX_ATTEMPTS:
            status = "pending"
            retry_at = now + timedelta(seconds=RETRY_SCHEDULE[attempt.attempts - 1])
        else:
            status, retry_at = "failed", None
            failed.append(attempt)
            if outcome.retry:
                exhausted[attempt.webhook_id] = attempt
        params.append(
            {
                "did": attempt.id,
                "claimer": attempt.claimed_by,
                "v_status": status,
                "v_next": retry_at,
                "v_code": outcome.response_code,
                "v_latency": outcome.latency_ms,
                "v_error": outcome.error,
                "now": now,
            }
        )
    if params:
        session.execute(_finish_statement(), params)
    if untried:
        session.execute(_untried_statement(), untried)
    if succeeded:
        session.execute(
            update(Webhook)
            .where(Webhook.id.in_(succeeded), Webhook.consecutive_failures != 0)
            .values(consecutive_failures=0)
            .execution_options(synchronize_session=False)
        )
    return _count_failures(session, failed, exhausted, now)


def _count_failures(
    session: Session, failed: list[Attempt], exhausted: dict[int, Attempt], now: datetime
) -> list[Disabled]:
    per_hook: dict[int, int] = {}
    for attempt in failed:
        per_hook[attempt.webhook_id] = per_hook.get(attempt.webhook_id, 0) + 1
    disabled = []
    for webhook_id, count in sorted(per_hook.items()):
        hook = session.get(Webhook, webhook_id, populate_existing=True)
        if hook is None:
            continue
        hook.consecutive_failures += count
        reason = None
        if webhook_id in exhausted:
            hours = sum(RETRY_SCHEDULE) / 3600
            reason = (
                f"a delivery failed {MAX_ATTEMPTS} times over {hours:.0f} hours "
                f"({exhausted[webhook_id].msg_id})"
            )
        elif hook.consecutive_failures >= DISABLE_AFTER_FAILED:
            reason = f"{hook.consecutive_failures} deliveries in a row failed"
        if reason is not None and hook.active:
            hook.active = False
            hook.disabled_at = now
            hook.disabled_reason = reason
            disabled.append(Disabled(hook.id, hook.project_id, hook.url, reason))
    session.flush()
    for project_id in sorted({d.project_id for d in disabled}):
        listeners.refresh(session, project_id)
    return disabled
