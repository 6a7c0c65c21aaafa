"""What the scheduling rules need to know, read in SQL: each survey's rules, each person's
last contact and facts, and the candidates of a scheduling pass.

A pass first sorts out in SQL the people who cannot be due (a pending invitation,
unsubscribed, bounced, no address, invited or answered within the cadence, not a customer
long enough), counting them by the reason `decide` would give, so the rules run in Python
only for the rest: most of a project is not due on any given day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from surveys.email.scheduling import Facts, Reason, Rules, parse_window
from surveys.models import Display, Invitation, Person, Project, Survey, SurveyResponse

PENDING = ("scheduled", "sending")
# Statuses that count as "this person was contacted" for cadence and the fatigue guard.
CONTACTED = ("scheduled", "sending", "sent", "uncertain")


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


def last_contacts(
    session: Session, project_id: int, person_ids: Sequence[int] | None = None
) -> dict[int, datetime]:
    """Each person's latest invitation (any survey) or widget showing: the fatigue guard."""
    invited = select(Invitation.person_id, func.max(Invitation.due_at)).where(
        Invitation.project_id == project_id,
        Invitation.kind == "invite",
        Invitation.status.in_(CONTACTED),
    )
    if person_ids is not None:
        invited = invited.where(Invitation.person_id.in_(person_ids))
        shown = select(Display.person_id, func.max(Display.created_at)).where(
            Display.project_id == project_id, Display.person_id.in_(person_ids)
        )
    else:
        # Driven from the project's people, each person's displays sought by the
        # (person, time) index: no index leads with a display's project, and filtering on it
        # walked the displays of every project, once per project in a pass.
        shown = (
            select(Display.person_id, func.max(Display.created_at))
            .join(Person, Person.id == Display.person_id)
            .where(Person.project_id == project_id)
        )
    latest: dict[int, datetime] = {}
    for stmt in (invited.group_by(Invitation.person_id), shown.group_by(Display.person_id)):
        for person_id, moment in session.connection().execute(stmt):
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


def candidate_facts(
    session: Session, survey: Survey, rules: Rules, contacts: dict[int, datetime], now: datetime
) -> tuple[list[Facts], Counter[str]]:
    """Facts for the people of the survey's project who may be due now, and how many of the
    others there are per reason ("pending" for those with a pending invitation).

    The reasons follow `decide`'s order, so the counts are what running it for everyone
    would give: unsubscribed, bounced, no email, then not due while the cadence base
    (`scheduling.base_time`) lies ahead. Those are comparisons with constants, the same on
    SQLite and PostgreSQL. The fatigue guard is left to `decide`: whether someone contacted
    lately counts as throttled, sampled out or not due depends on their draw, which comes
    first.
    """
    invited = (
        select(Invitation.person_id, func.max(Invitation.due_at).label("at"))
        .where(
            Invitation.survey_id == survey.id,
            Invitation.kind == "invite",
            Invitation.status.in_(CONTACTED),
        )
        .group_by(Invitation.person_id)
        .subquery()
    )
    answered = (
        select(SurveyResponse.person_id, func.max(SurveyResponse.created_at).label("at"))
        .where(SurveyResponse.survey_id == survey.id)
        .group_by(SurveyResponse.person_id)
        .subquery()
    )
    pending = exists().where(
        Invitation.survey_id == survey.id,
        Invitation.person_id == Person.id,
        Invitation.status.in_(PENDING),
    )
    # base_time > now: within the cadence of the last invitation or answer, or (never either)
    # before the first delay after becoming a customer, or before being added.
    cadence_start = now - timedelta(days=rules.cadence_days)
    first_start = now - timedelta(days=rules.first_delay_days)
    not_yet = or_(
        invited.c.at > cadence_start,
        answered.c.at > cadence_start,
        and_(
            invited.c.at.is_(None),
            answered.c.at.is_(None),
            or_(
                func.coalesce(Person.created_at, Person.added_at) > first_start,
                Person.added_at > now,
            ),
        ),
    )
    why = case(
        (pending, "pending"),
        (Person.unsubscribed_at.is_not(None), Reason.UNSUBSCRIBED.value),
        (Person.bounced_at.is_not(None), Reason.BOUNCED.value),
        (or_(Person.email.is_(None), Person.email == ""), Reason.NO_EMAIL.value),
        (not_yet, Reason.NOT_DUE.value),
        else_=None,
    ).label("why")

    def people(*columns: Any) -> Any:
        return (
            select(*columns)
            .select_from(Person)
            .outerjoin(invited, invited.c.person_id == Person.id)
            .outerjoin(answered, answered.c.person_id == Person.id)
            .where(Person.project_id == survey.project_id)
        )

    reasons = people(why).subquery()
    skipped: Counter[str] = Counter(
        {
            reason: count
            for reason, count in session.execute(
                select(reasons.c.why, func.count())
                .where(reasons.c.why.is_not(None))
                .group_by(reasons.c.why)
            )
        }
    )
    # Plain rows through Core: the ORM's loading layer adds a third to reading 100k of them.
    rows = session.connection().execute(
        people(
            Person.id,
            Person.added_at,
            Person.created_at,
            Person.time_zone,
            invited.c.at,
            answered.c.at,
        )
        .where(why.is_(None))
        .order_by(Person.id)
    )
    facts = [
        Facts(
            person_id=pid,
            has_email=True,
            added_at=added_at,
            created_at=created_at,
            time_zone=time_zone,
            last_invited_at=invited_at,
            last_answered_at=answered_at,
            last_contact_at=contacts.get(pid),
        )
        for pid, added_at, created_at, time_zone, invited_at, answered_at in rows
    ]
    return facts, skipped
