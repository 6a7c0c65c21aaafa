"""The outbox: creating invitations (scheduled waves, reminders, ad hoc) idempotently.

Facts come from a few GROUP BY queries per survey; the decisions are `surveys.scheduling`'s;
rows are inserted with ON CONFLICT DO NOTHING on the unique (survey, person, channel,
window, kind) key, so two schedulers running at once create each invitation once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from surveys.errors import Invalid, NotFound
from surveys.models import Display, Invitation, Person, Project, Survey, SurveyResponse
from surveys.scheduling import (
    Decision,
    Facts,
    Reason,
    Rules,
    decide,
    decide_reminder,
    parse_window,
)

EMAIL = "email"
PENDING = ("scheduled", "sending")
# Statuses that count as "this person was contacted" for cadence and the fatigue guard.
CONTACTED = ("scheduled", "sending", "sent", "uncertain")
_INSERT_CHUNK = 5000


@dataclass
class ScheduleResult:
    created: int = 0
    reminders: int = 0
    pending: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def rules_for(survey: Survey, project: Project) -> Rules:
    return Rules(
        survey_id=survey.id,
        cadence_days=survey.cadence_days,
        first_delay_days=survey.first_delay_days,
        sample_rate=survey.sample_rate,
        spread_days=survey.spread_days,
        send_window=parse_window(survey.send_window_start, survey.send_window_end),
        reminder_after_days=survey.reminder_after_days,
        throttle_days=project.throttle_days,
        project_zone=project.time_zone,
    )


def sends_email(survey: Survey) -> bool:
    return bool(survey.active) and EMAIL in (survey.channels or [])


def last_contacts(
    session: Session, project_id: int, person_ids: Sequence[int] | None = None
) -> dict[int, datetime]:
    """Each person's latest invitation (any survey) or widget showing: the fatigue guard."""
    invited = select(Invitation.person_id, func.max(Invitation.due_at)).where(
        Invitation.project_id == project_id,
        Invitation.kind == "invite",
        Invitation.status.in_(CONTACTED),
    )
    shown = select(Display.person_id, func.max(Display.created_at)).where(
        Display.project_id == project_id
    )
    if person_ids is not None:
        invited = invited.where(Invitation.person_id.in_(person_ids))
        shown = shown.where(Display.person_id.in_(person_ids))
    latest: dict[int, datetime] = {}
    for stmt in (invited.group_by(Invitation.person_id), shown.group_by(Display.person_id)):
        for person_id, moment in session.execute(stmt):
            if moment is not None and (person_id not in latest or moment > latest[person_id]):
                latest[person_id] = moment
    return latest


def _per_person_max(session: Session, stmt: Any) -> dict[int, datetime]:
    return {pid: moment for pid, moment in session.execute(stmt) if moment is not None}


def survey_facts(
    session: Session,
    survey: Survey,
    contacts: dict[int, datetime],
    person_ids: Sequence[int] | None = None,
) -> tuple[list[Facts], set[int]]:
    """Facts for every person of the survey's project (or the given ones), and the ids of
    those who already have a pending invitation to this survey."""
    invited_stmt = select(Invitation.person_id, func.max(Invitation.due_at)).where(
        Invitation.survey_id == survey.id,
        Invitation.kind == "invite",
        Invitation.status.in_(CONTACTED),
    )
    answered_stmt = select(SurveyResponse.person_id, func.max(SurveyResponse.created_at)).where(
        SurveyResponse.survey_id == survey.id
    )
    pending_stmt = select(Invitation.person_id).where(
        Invitation.survey_id == survey.id, Invitation.status.in_(PENDING)
    )
    people_stmt = select(
        Person.id,
        Person.email,
        Person.added_at,
        Person.created_at,
        Person.time_zone,
        Person.unsubscribed_at,
        Person.bounced_at,
    ).where(Person.project_id == survey.project_id)
    if person_ids is not None:
        invited_stmt = invited_stmt.where(Invitation.person_id.in_(person_ids))
        answered_stmt = answered_stmt.where(SurveyResponse.person_id.in_(person_ids))
        pending_stmt = pending_stmt.where(Invitation.person_id.in_(person_ids))
        people_stmt = people_stmt.where(Person.id.in_(person_ids))
    invited = _per_person_max(session, invited_stmt.group_by(Invitation.person_id))
    answered = _per_person_max(session, answered_stmt.group_by(SurveyResponse.person_id))
    pending = set(session.scalars(pending_stmt))
    facts = [
        Facts(
            person_id=pid,
            has_email=bool(email),
            added_at=added_at,
            created_at=created_at,
            time_zone=time_zone,
            unsubscribed=unsubscribed_at is not None,
            bounced=bounced_at is not None,
            last_invited_at=invited.get(pid),
            last_answered_at=answered.get(pid),
            last_contact_at=contacts.get(pid),
        )
        for pid, email, added_at, created_at, time_zone, unsubscribed_at, bounced_at in (
            session.execute(people_stmt.order_by(Person.id))
        )
    ]
    return facts, pending


def insert_invitations(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping rows whose unique key exists: returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # One compiled statement, executed many times: compiling a 500-row VALUES list cost more
    # than the inserts themselves.
    # RETURNING counts what was new on both databases (psycopg reports no executemany
    # rowcount); SQLAlchemy batches it into multi-row INSERTs ("insertmanyvalues").
    table = Invitation.__table__
    stmt = (
        insert(table)
        .on_conflict_do_nothing(
            index_elements=["survey_id", "person_id", "channel", "window_key", "kind"]
        )
        .returning(table.c.id)
    )
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
    facts, pending = survey_facts(session, survey, contacts)
    rows = []
    for fact in facts:
        if fact.person_id in pending:
            result.pending += 1
            continue
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
        result.reminders += _schedule_reminders(
            session, survey, rules, {f.person_id: f for f in facts}, now
        )


def _schedule_reminders(
    session: Session, survey: Survey, rules: Rules, facts: dict[int, Facts], now: datetime
) -> int:
    """One reminder per sent, unanswered invitation, once `reminder_after_days` have passed."""
    assert rules.reminder_after_days is not None
    newer = aliased(Invitation)
    reminder = aliased(Invitation)
    stmt = select(Invitation.person_id, Invitation.window_key, Invitation.sent_at).where(
        Invitation.survey_id == survey.id,
        Invitation.kind == "invite",
        Invitation.status == "sent",
        Invitation.responded_at.is_(None),
        Invitation.sent_at <= now - timedelta(days=rules.reminder_after_days),
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
    rows = []
    for person_id, key, sent_at in session.execute(stmt):
        fact = facts.get(person_id)
        if fact is None:
            continue
        due_at = decide_reminder(rules, fact, sent_at, False, now)
        if due_at is not None:
            rows.append(_row(survey, person_id, key, due_at, "reminder", now))
    return insert_invitations(session, rows)


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
    survey = session.get(Survey, survey_id)
    if survey is None or survey.project_id != project.id:
        raise NotFound(f"survey {survey_id} not found")
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


def answered_since_invite(session: Session, reminder: Invitation) -> bool:
    """Whether the person answered (any channel) since the invitation a reminder follows."""
    sent_at = session.scalar(
        select(Invitation.sent_at).where(
            Invitation.survey_id == reminder.survey_id,
            Invitation.person_id == reminder.person_id,
            Invitation.window_key == reminder.window_key,
            Invitation.kind == "invite",
        )
    )
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
