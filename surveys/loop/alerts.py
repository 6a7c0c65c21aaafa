"""Alerts: matching new answers and growing friction points to rules, and each match's state
from found to sent.

New answers are read straight from `survey_responses` above a rule's watermark; a promoter's
drop is read from `period_answers` (their counted answer in the previous quarter). Each match
is one `AlertEvent`, unique per rule and subject, inserted with ON CONFLICT DO NOTHING: a pass
that runs twice finds the match taken. A worker takes a rule under a lease, so one worker at a
time matches and sends it; the matches of a rule that fall within its group window go out as
one message, and a message is committed `sending` before it is posted. A match still `sending`
when the next worker takes the rule was in flight when its worker died: it becomes
`uncertain` and is not sent again (at most once, never twice).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.clock import utcnow
from surveys.loop.alert_rules import get_rule
from surveys.loop.theme_growth import growing_points, latest_done_run
from surveys.models import AlertEvent, AlertRule, PeriodAnswer, Project, SurveyResponse
from surveys.period_answers import is_current
from surveys.periods import period_of, previous_period
from surveys.segments import Segment, in_segment

BATCH = 1000
MAX_BATCHES = 50
LEASE = timedelta(minutes=5)
# Theme growth is checked when a new run finishes, else once a day.
THEME_CHECK_EVERY = timedelta(days=1)
# Retries after a failed send, then the matches are given up as failed.
RETRY_AFTER = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
# One message names at most this many matches; the rest go in the next one.
MAX_PER_MESSAGE = 200
TEST_PREFIX = "test:"


@dataclass(frozen=True)
class Match:
    subject: str
    response_id: int | None
    data: dict[str, Any]
    occurred_at: datetime


def active_rule_ids(session: Session) -> list[int]:
    return list(
        session.scalars(select(AlertRule.id).where(AlertRule.active).order_by(AlertRule.id))
    )


def claim_rule(session: Session, rule_id: int, worker: str, now: datetime) -> AlertRule | None:
    """Take the rule for this worker until the lease ends; None when another worker holds it.

    A guarded UPDATE, so it works the same on SQLite and PostgreSQL.
    """
    r = AlertRule
    taken = session.execute(
        update(r)
        .where(r.id == rule_id, r.active, or_(r.lease_until.is_(None), r.lease_until < now))
        .values(claimed_by=worker, lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None
    rule = session.get(AlertRule, rule_id)
    if rule is not None:
        session.refresh(rule)
    return rule


def release_rule(session: Session, rule_id: int, worker: str) -> None:
    r = AlertRule
    session.execute(
        update(r)
        .where(r.id == rule_id, r.claimed_by == worker)
        .values(claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def _property_matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return ("true" if value else "false") == wanted.strip().lower()
    if isinstance(value, (int, float)):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    return isinstance(value, str) and value == wanted


def answer_matches(rule: AlertRule, comment: str | None, properties: dict[str, Any]) -> bool:
    """The rule's conditions on one answer (its comment and its snapshot of properties)."""
    if rule.comment_required and not (comment or "").strip():
        return False
    props = properties or {}
    if rule.property_key is not None and not _property_matches(
        props.get(rule.property_key), rule.property_value or ""
    ):
        return False
    if rule.revenue_property is not None:
        revenue = props.get(rule.revenue_property)
        if isinstance(revenue, bool) or not isinstance(revenue, (int, float)):
            return False
        if revenue < (rule.revenue_min or 0):
            return False
    return True


def match_answers(
    session: Session,
    rule: AlertRule,
    now: datetime,
    *,
    batch: int = BATCH,
    max_batches: int = MAX_BATCHES,
) -> int:
    """Matches among the answers above the rule's watermark; returns how many were new.

    Reads up to `max_batches` keyset batches, so a backlog (a worker that was down) is worked
    off over a few passes without one pass holding the rule for long.
    """
    if rule.kind not in ("detractor", "promoter_to_detractor"):
        return 0
    project = session.get(Project, rule.project_id)
    if project is None or (rule.kind == "promoter_to_detractor" and not is_current(project)):
        return 0  # the period rows are being rebuilt; the answers wait for the next pass
    r = SurveyResponse
    newest = session.scalar(select(func.max(r.id)).where(r.project_id == rule.project_id))
    low = rule.settled_to
    if newest is None or newest <= low:
        return 0
    # Only what the rule's conditions read: decoding every answer's properties costs most.
    columns = [r.id, r.survey_id, r.person_id, r.created_at]
    columns += [r.comment] if rule.comment_required else []
    columns += [r.properties] if rule.property_key or rule.revenue_property else []
    found, reached = 0, low
    for _ in range(max_batches):
        rows = session.execute(
            select(*columns)
            .where(
                r.project_id == rule.project_id,
                r.id > reached,
                r.id <= newest,
                in_segment(r.score, Segment.DETRACTOR),
                r.excluded.is_(False),
            )
            .order_by(r.id)
            .limit(batch)
        ).all()
        # A full batch ends at its last row; otherwise everything up to `newest` was seen.
        reached = rows[-1].id if len(rows) == batch else newest
        candidates = [
            row
            for row in rows
            if answer_matches(rule, getattr(row, "comment", None), getattr(row, "properties", {}))
        ]
        if candidates and candidates[0].id <= rule.examined_to:
            # The second look at a range: leave out what the first one stored.
            candidates = _unmatched(session, rule, candidates)
        if rule.kind == "detractor":
            matches = [
                Match(f"response:{row.id}", row.id, {}, min(row.created_at, now))
                for row in candidates
            ]
        else:
            matches = _drops(session, project, candidates, now)
        found += _insert(session, rule, matches)
        if reached >= newest:
            break
    # Answers seen twice now are settled; a lower id committed late is caught the second time.
    rule.settled_to = max(low, min(rule.examined_to, reached))
    rule.examined_to = max(rule.examined_to, reached)
    session.flush()
    return found


def _unmatched(session: Session, rule: AlertRule, rows: list[Any]) -> list[Any]:
    e = AlertEvent
    stored = set(
        session.scalars(
            select(e.response_id).where(
                e.rule_id == rule.id, e.response_id.between(rows[0].id, rows[-1].id)
            )
        )
    )
    return [row for row in rows if row.id not in stored]


def _drops(session: Session, project: Project, rows: list[Any], now: datetime) -> list[Match]:
    """Detractor answers of people whose counted answer the quarter before was a promoter's."""
    if not rows:
        return []
    zone = project.time_zone
    quarter = {row.id: period_of(row.created_at, "quarter", zone) for row in rows}
    previous = {rid: previous_period(q, "quarter", zone).label for rid, q in quarter.items()}
    pa = PeriodAnswer
    earlier = {
        (a.survey_id, a.person_id, a.period): a.score
        for a in session.execute(
            select(pa.survey_id, pa.person_id, pa.period, pa.score).where(
                # The surveys too: by people alone no index applies, and the read walked the
                # period answers of every project on each alert pass.
                pa.survey_id.in_({row.survey_id for row in rows}),
                pa.unit == "quarter",
                pa.person_id.in_({row.person_id for row in rows}),
                pa.period.in_(set(previous.values())),
                in_segment(pa.score, Segment.PROMOTER),
            )
        )
    }
    matches = []
    for row in rows:
        label = previous[row.id]
        before = earlier.get((row.survey_id, row.person_id, label))
        if before is None:
            continue
        # One alert per person, survey and quarter: a second low answer is the same drop.
        now_label = quarter[row.id].label
        subject = f"drop:{row.survey_id}:{row.person_id}:{now_label}"
        data = {"previous_score": before, "previous_period": label, "period": now_label}
        matches.append(Match(subject, row.id, data, min(row.created_at, now)))
    return matches


def _insert(session: Session, rule: AlertRule, matches: list[Match]) -> int:
    """The matches not yet stored, in one statement; returns how many were new."""
    if not matches:
        return 0
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = AlertEvent.__table__
    created = utcnow()
    rows = [
        {
            "rule_id": rule.id,
            "subject": m.subject,
            "response_id": m.response_id,
            "data": m.data,
            "status": "pending",
            "occurred_at": m.occurred_at,
            "attempts": 0,
            "created_at": created,
        }
        for m in matches
    ]
    stmt = insert(table).on_conflict_do_nothing().returning(table.c.id)
    return len(session.execute(stmt, rows).all())


def check_themes(session: Session, rule: AlertRule, now: datetime) -> int:
    """Friction points growing significantly, when a new run finished or a day has passed."""
    if rule.kind != "theme_growth":
        return 0
    run = latest_done_run(session, rule.project_id)
    if run is None:
        return 0
    fresh = rule.theme_run_id != run.id
    due = rule.theme_checked_at is None or now - rule.theme_checked_at >= THEME_CHECK_EVERY
    if not (fresh or due):
        return 0
    project = session.get(Project, rule.project_id)
    assert project is not None
    found = 0
    for growth in growing_points(session, run, project.time_zone, now):
        # The label, not the point's id, names a theme across runs: one alert per quarter.
        digest = hashlib.sha256(growth.label.encode()).hexdigest()[:16]
        data = {
            "label": growth.label,
            "point_id": growth.point_id,
            "period": growth.period,
            "previous_period": growth.previous_period,
            "count": growth.count,
            "total": growth.total,
            "previous_count": growth.previous_count,
            "previous_total": growth.previous_total,
            "z": round(growth.z, 4),
            "p_value": growth.p_value,
        }
        found += _insert(session, rule, [Match(f"theme:{growth.period}:{digest}", None, data, now)])
    rule.theme_run_id = run.id
    rule.theme_checked_at = now
    session.flush()
    return found


def queue_test(session: Session, project_id: int, rule_id: int, now: datetime) -> AlertEvent:
    """A test message for the rule, sent by the worker's next pass without waiting."""
    rule = get_rule(session, project_id, rule_id)
    event = AlertEvent(
        rule_id=rule.id,
        subject=TEST_PREFIX + uuid.uuid4().hex,
        data={"test": True},
        status="pending",
        occurred_at=now,
        attempts=0,
    )
    session.add(event)
    session.flush()
    return event


def take_due(session: Session, rule: AlertRule, now: datetime) -> list[AlertEvent]:
    """The rule's matches to send now, marked `sending` (the caller commits before posting).

    Tests go at once and alone. Other matches wait until the oldest has waited the group
    window, then go together, so a burst is one message.
    """
    e = AlertEvent
    # Whatever is still `sending` was in flight when a worker died: never sent twice.
    session.execute(
        update(e)
        .where(e.rule_id == rule.id, e.status == "sending")
        .values(status="uncertain", error="the worker stopped while sending")
        .execution_options(synchronize_session=False)
    )
    ready = list(
        session.scalars(
            select(e)
            .where(
                e.rule_id == rule.id,
                e.status == "pending",
                or_(e.next_attempt_at.is_(None), e.next_attempt_at <= now),
            )
            .order_by(e.occurred_at, e.id)
            .limit(MAX_PER_MESSAGE)
        )
    )
    tests = [event for event in ready if event.subject.startswith(TEST_PREFIX)]
    if tests:
        chosen = tests
    elif ready and ready[0].occurred_at + timedelta(seconds=rule.group_seconds) <= now:
        chosen = ready
    else:
        chosen = []
    for event in chosen:
        event.status = "sending"
        event.attempts += 1
    session.flush()
    return chosen


def record_sent(session: Session, rule: AlertRule, events: list[AlertEvent], now: datetime) -> None:
    for event in events:
        event.status, event.sent_at, event.error = "sent", now, None
    rule.last_status, rule.last_sent_at, rule.last_error = "sent", now, None
    session.flush()


def record_failed(
    session: Session,
    rule: AlertRule,
    events: list[AlertEvent],
    error: str,
    *,
    permanent: bool,
    now: datetime,
) -> None:
    """A transient failure is retried later; a permanent one, or the last retry, gives up."""
    for event in events:
        event.error = error[:1000]
        if permanent or event.attempts > len(RETRY_AFTER):
            event.status = "failed"
        else:
            event.status = "pending"
            event.next_attempt_at = now + RETRY_AFTER[event.attempts - 1]
    rule.last_status, rule.last_error = "failed", error[:1000]
    session.flush()
