"""The outbox: creating invitations (scheduled waves, reminders, ad hoc) idempotently.

Facts come from `surveys.email.schedule_facts` (SQL, which also sorts out who cannot be due); the
decisions are `surveys.email.scheduling`'s; rows are inserted with ON CONFLICT DO NOTHING on the
unique (survey, person, channel, window, kind) key, so two schedulers running at once create
each invitation once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from surveys.catalog import get_survey
from surveys.email.delivery import Claim, invite_of
from surveys.email.schedule_facts import (
    PENDING,
    candidate_facts,
    last_contacts,
    rules_for,
    survey_facts,
)
from surveys.email.scheduling import Decision, Reason, Rules, decide, reminder_time
from surveys.errors import Invalid, NotFound
from surveys.models import Invitation, Person, Project, Survey, SurveyResponse

EMAIL = "email"
_INSERT_CHUNK = 5000


@dataclass
class ScheduleResult:
    created: int = 0
    reminders: int = 0
    pending: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def sends_email(survey: Survey) -> bool:
    return bool(survey.active) and EMAIL in (survey.channels or [])


def _insert(session: Session) -> Any:
    """INSERT into invitations that skips rows whose unique key exists, returning the new ids
    (RETURNING counts what was new on both databases; psycopg reports no executemany
    rowcount)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Invitation.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(
            index_elements=["survey_id", "person_id", "channel", "window_key", "kind"]
        )
        .returning(table.c.id)
    )


def insert_invitations(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping rows whose unique key exists: returns how many were new."""
    if not rows:
        return 0
    # One compiled statement, executed many times: compiling a 500-row VALUES list cost more
    # than the inserts themselves. SQLAlchemy batches it into multi-row INSERTs
    # ("insertmanyvalues").
    stmt = _insert(session)
    created = 0
    for i in range(0, len(rows), _INSERT_CHUNK):
        created += len(session.connection().execute(stmt, rows[i : i + _INSERT_CHUNK]).all())
    return created


def _row(survey: Survey, person_id: int, key: str, due_at: datetime, kind: str, now: datetime):
    return {
        "project_id": survey.project_id,
        "survey_id": survey.id,
        "person_id": person_id,
        "channel": EMAIL,
        "kind": kind,
        "window_key": key,
        "status": "scheduled",
        "due_at": due_at,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _schedule_survey(
    session: Session,
    survey: Survey,
    project: Project,
    contacts: dict[int, datetime],
    now: datetime,
    result: ScheduleResult,
) -> None:
    rules = rules_for(survey, project)
    facts, skipped = candidate_facts(session, survey, rules, contacts, now)
    result.pending += skipped.pop("pending", 0)
    result.reasons.update(skipped)
    rows = []
    for fact in facts:
        decision = decide(rules, fact, now, explain=False)
        if decision.due:
            assert decision.at is not None and decision.window_key is not None
            rows.append(
                _row(survey, fact.person_id, decision.window_key, decision.at, "invite", now)
            )
            # Later surveys in this pass see the new contact: one invitation per fatigue window.
            contacts[fact.person_id] = decision.at
        else:
            result.reasons[str(decision.reason)] += 1
    result.created += insert_invitations(session, rows)
    if rules.reminder_after_days is not None:
        result.reminders += _schedule_reminders(session, survey, rules, now)


def _schedule_reminders(session: Session, survey: Survey, rules: Rules, now: datetime) -> int:
    """One reminder per sent, unanswered invitation, once `reminder_after_days` have passed.

    One INSERT ... SELECT: which invitations get one is a set question for SQL, and when it
    goes out (`scheduling.reminder_time`) depends only on the person's time zone, so it is
    worked out once per zone of the project and picked with a CASE.
    """
    assert rules.reminder_after_days is not None
    newer = aliased(Invitation)
    reminder = aliased(Invitation)
    zones = session.scalars(
        select(Person.time_zone).where(Person.project_id == survey.project_id).distinct()
    )
    times = {zone: reminder_time(rules, zone, now) for zone in zones if zone is not None}
    # No zone (NULL never equals a WHEN value) means the project's.
    fallback = reminder_time(rules, None, now)
    due_at = case(times, value=Person.time_zone, else_=fallback) if times else literal(fallback)
    stmt = (
        select(
            Invitation.project_id,
            Invitation.survey_id,
            Invitation.person_id,
            literal(EMAIL),
            literal("reminder"),
            Invitation.window_key,
            literal("scheduled"),
            due_at,
            literal(0),
            literal(now),
            literal(now),
        )
        .join(Person, Person.id == Invitation.person_id)
        .where(
            Invitation.survey_id == survey.id,
            Invitation.kind == "invite",
            Invitation.status == "sent",
            Invitation.responded_at.is_(None),
            Invitation.sent_at <= now - timedelta(days=rules.reminder_after_days),
            # Nobody unsubscribed, bounced or without an address is reminded (`_blocked`).
            Person.unsubscribed_at.is_(None),
            Person.bounced_at.is_(None),
            Person.email.is_not(None),
            Person.email != "",
            # Only the person's current invitation, not an older wave's.
            ~exists().where(
                newer.survey_id == Invitation.survey_id,
                newer.person_id == Invitation.person_id,
                newer.kind == "invite",
                newer.due_at > Invitation.due_at,
            ),
            ~exists().where(
                reminder.survey_id == Invitation.survey_id,
                reminder.person_id == Invitation.person_id,
                reminder.window_key == Invitation.window_key,
                reminder.kind == "reminder",
            ),
            # An answer on any channel since the invitation went out makes a reminder pointless.
            ~exists().where(
                and_(
                    SurveyResponse.survey_id == Invitation.survey_id,
                    SurveyResponse.person_id == Invitation.person_id,
                    SurveyResponse.created_at >= Invitation.sent_at,
                )
            ),
        )
    )
    columns = [
        "project_id",
        "survey_id",
        "person_id",
        "channel",
        "kind",
        "window_key",
        "status",
        "due_at",
        "attempts",
        "created_at",
        "updated_at",
    ]
    inserted = session.connection().execute(_insert(session).from_select(columns, stmt))
    return len(inserted.all())


def schedule_due(
    session: Session, now: datetime, *, project_id: int | None = None
) -> ScheduleResult:
    """Create every invitation that is due now (and reminders), for one project or all."""
    result = ScheduleResult()
    projects = select(Project).order_by(Project.id)
    if project_id is not None:
        projects = projects.where(Project.id == project_id)
    for project in session.scalars(projects).all():
        surveys = [
            s
            for s in session.scalars(
                select(Survey).where(Survey.project_id == project.id).order_by(Survey.id)
            )
            if sends_email(s)
        ]
        if not surveys:
            continue
        contacts = last_contacts(session, project.id)
        for survey in surveys:
            _schedule_survey(session, survey, project, contacts, now, result)
    session.flush()
    return result


@dataclass(frozen=True)
class SurveySchedule:
    survey_id: int
    due: bool
    next_due_at: datetime | None
    reason: str | None
    pending_invitation_id: int | None


def person_schedule(
    session: Session, project: Project, person: Person, now: datetime
) -> list[SurveySchedule]:
    """For each email survey of the project: when this person is next due, or why not."""
    contacts = last_contacts(session, project.id, [person.id])
    answer = []
    for survey in session.scalars(
        select(Survey).where(Survey.project_id == project.id).order_by(Survey.id)
    ):
        if not sends_email(survey):
            continue
        pending = session.scalar(
            select(Invitation)
            .where(
                Invitation.survey_id == survey.id,
                Invitation.person_id == person.id,
                Invitation.status.in_(PENDING),
            )
            .order_by(Invitation.due_at)
            .limit(1)
        )
        if pending is not None:
            answer.append(SurveySchedule(survey.id, True, pending.due_at, None, pending.id))
            continue
        facts, _ = survey_facts(session, survey, contacts, [person.id])
        decision: Decision = decide(rules_for(survey, project), facts[0], now)
        reason = str(decision.reason) if decision.reason else None
        answer.append(SurveySchedule(survey.id, decision.due, decision.at, reason, None))
    return answer


@dataclass
class AdHocResult:
    invitations: list[Invitation]
    skipped: list[dict[str, Any]]


def invite_now(
    session: Session,
    project: Project,
    survey_id: int,
    person_ids: Iterable[int],
    now: datetime,
    *,
    force: bool = False,
) -> AdHocResult:
    """Invite the given people to a survey now. Unsubscribed, bounced and address-less people
    are always skipped; `force` only overrides the fatigue guard."""
    survey = get_survey(session, project.id, survey_id)
    if not survey.active:
        raise Invalid(f"survey {survey_id} is closed", {"survey_id": ["survey is closed"]})
    ids = sorted(set(person_ids))
    if not ids:
        raise Invalid("give at least one person", {"person_ids": ["at least one person id"]})
    people = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.project_id == project.id, Person.id.in_(ids))
        )
    }
    missing = [i for i in ids if i not in people]
    if missing:
        raise NotFound("some people were not found", {"person_ids": missing})
    contacts = last_contacts(session, project.id, ids)
    pending = set(
        session.scalars(
            select(Invitation.person_id).where(
                Invitation.survey_id == survey.id,
                Invitation.person_id.in_(ids),
                Invitation.status.in_(PENDING),
            )
        )
    )
    throttle = timedelta(days=project.throttle_days)
    key = "adhoc:" + now.strftime("%Y-%m-%dT%H:%M")
    rows, skipped = [], []
    for pid in ids:
        person = people[pid]
        reason = _adhoc_reason(person, pid in pending, contacts.get(pid), throttle, now, force)
        if reason:
            skipped.append({"person_id": pid, "reason": reason})
        else:
            rows.append(_row(survey, pid, key, now, "invite", now))
    insert_invitations(session, rows)
    invitations = list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.survey_id == survey.id,
                Invitation.window_key == key,
                Invitation.person_id.in_([r["person_id"] for r in rows]),
            )
            .order_by(Invitation.id)
        )
    )
    return AdHocResult(invitations, skipped)


def _adhoc_reason(
    person: Person,
    pending: bool,
    last_contact: datetime | None,
    throttle: timedelta,
    now: datetime,
    force: bool,
) -> str | None:
    if person.unsubscribed_at is not None:
        return Reason.UNSUBSCRIBED.value
    if person.bounced_at is not None:
        return Reason.BOUNCED.value
    if not person.email:
        return Reason.NO_EMAIL.value
    if pending:
        return "already_scheduled"
    if not force and last_contact is not None and last_contact + throttle > now:
        return Reason.THROTTLED.value
    return None


def answered_since_invite(session: Session, reminder: Invitation | Claim) -> bool:
    """Whether the person answered (any channel) since the invitation a reminder follows."""
    sent_at = session.scalar(select(Invitation.sent_at).where(invite_of(reminder)))
    if sent_at is None:
        return False
    answered = session.scalar(
        select(func.count()).where(
            SurveyResponse.survey_id == reminder.survey_id,
            SurveyResponse.person_id == reminder.person_id,
            SurveyResponse.created_at >= sent_at,
        )
    )
    return bool(answered)
