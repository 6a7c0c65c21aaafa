"""The scheduling pass sorts out in SQL who cannot be due: on a mixed population (every
reason, time zones, widget answers and showings, pending and old invitations) it must create
exactly the invitations, and count exactly the reasons, that the full rules give for each
person, and the per-person schedule must agree with it."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from service.db import db
from surveys import catalog
from surveys.email import outbox, schedule_facts
from surveys.email.scheduling import Facts, decide, decide_reminder
from surveys.models import Display, Invitation, Person, Project, Survey, SurveyResponse
from surveys.projects import create_project
from tests.email.conftest import NOW

ZONES = [None, "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Not/AZone"]


def _populate(session, count: int) -> tuple[Project, list[int]]:
    rng = random.Random(3)
    project = create_project(session, "Mixed", "Europe/Berlin").project
    surveys = [
        catalog.create_survey(
            session,
            project.id,
            {
                "name": "Quarterly",
                "channels": ["email"],
                "sample_rate": 0.7,
                "first_delay_days": 14,
                "reminder_after_days": 5,
            },
        ),
        catalog.create_survey(
            session,
            project.id,
            {"name": "Onboarding", "channels": ["email", "widget"], "cadence_days": 30},
        ),
    ]
    people = []
    for i in range(count):
        people.append(
            {
                "project_id": project.id,
                "external_id": f"p{i}",
                "email": rng.choice([None, "", *[f"p{i}@example.com"] * 8]),
                "time_zone": rng.choice(ZONES),
                "properties": {},
                "created_at": rng.choice([None, NOW - timedelta(days=rng.randint(0, 400))]),
                "added_at": NOW - timedelta(days=rng.randint(-2, 200)),
                "updated_at": NOW,
                "unsubscribed_at": NOW if rng.random() < 0.05 else None,
                "bounced_at": NOW if rng.random() < 0.05 else None,
                "anonymous": False,
            }
        )
    session.execute(insert(Person), people)
    ids = list(session.scalars(select(Person.id).where(Person.project_id == project.id)))
    invitations, answers, shown = [], [], []
    for pid in ids:
        for survey in surveys:
            roll = rng.random()
            if roll < 0.3:
                status = rng.choice(["sent", "sent", "uncertain", "failed", "scheduled"])
                at = NOW - timedelta(days=rng.randint(0, 200))
                invitations.append(
                    {
                        "project_id": project.id,
                        "survey_id": survey.id,
                        "person_id": pid,
                        "channel": "email",
                        "kind": "invite",
                        "window_key": f"old-{at.isoformat()}",
                        "status": status,
                        "due_at": at,
                        "sent_at": at if status == "sent" else None,
                        "attempts": 1,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            if roll > 0.85:
                answers.append(
                    {
                        "project_id": project.id,
                        "survey_id": survey.id,
                        "person_id": pid,
                        "score": rng.randint(0, 10),
                        "channel": "widget",
                        "excluded": False,
                        "properties": {},
                        "created_at": NOW - timedelta(days=rng.randint(0, 150)),
                        "updated_at": NOW,
                    }
                )
        if rng.random() < 0.1:
            shown.append(
                {
                    "project_id": project.id,
                    "survey_id": surveys[1].id,
                    "person_id": pid,
                    "created_at": NOW - timedelta(days=rng.randint(0, 60)),
                }
            )
    session.execute(insert(Invitation), invitations)
    session.execute(insert(SurveyResponse), answers)
    session.execute(insert(Display), shown)
    session.commit()
    return project, ids


def _expected(session, project: Project) -> tuple[set[tuple], Counter[str], int]:
    """What running the full rules for every person gives: the surveys in turn, each seeing
    the contacts the earlier ones created, as the pass does."""
    contacts = schedule_facts.last_contacts(session, project.id)
    created, reasons, pending = set(), Counter(), 0
    for survey in session.scalars(
        select(Survey).where(Survey.project_id == project.id).order_by(Survey.id)
    ):
        rules = schedule_facts.rules_for(survey, project)
        facts, waiting = schedule_facts.survey_facts(session, survey, contacts)
        for fact in facts:
            if fact.person_id in waiting:
                pending += 1
                continue
            decision = decide(rules, fact, NOW, explain=False)
            if decision.due:
                created.add((survey.id, fact.person_id, decision.window_key, decision.at))
                contacts[fact.person_id] = decision.at
            else:
                reasons[str(decision.reason)] += 1
    return created, reasons, pending


def _scheduled(session, *where) -> set[tuple]:
    """(survey, person, window, due at) of the invitations matching `where`."""
    columns = (
        Invitation.survey_id,
        Invitation.person_id,
        Invitation.window_key,
        Invitation.due_at,
    )
    return set(session.execute(select(*columns).where(*where)))


def _expected_reminders(session, project: Project, created: set[tuple]) -> set[tuple]:
    """Reminders by the rules, worked out in Python from every row: one per sent, unanswered
    invitation that is the person's latest, unless they answered since it went out."""
    people = {p.id: p for p in session.scalars(select(Person))}
    latest: dict[tuple[int, int], datetime] = {}
    for survey_id, person_id, due_at in session.execute(
        select(Invitation.survey_id, Invitation.person_id, Invitation.due_at).where(
            Invitation.kind == "invite"
        )
    ):
        latest[survey_id, person_id] = max(due_at, latest.get((survey_id, person_id), due_at))
    for survey_id, person_id, _, due_at in created:
        latest[survey_id, person_id] = max(due_at, latest.get((survey_id, person_id), due_at))
    answers: dict[tuple[int, int], list[datetime]] = {}
    for answer in session.scalars(select(SurveyResponse)):
        answers.setdefault((answer.survey_id, answer.person_id), []).append(answer.created_at)
    expected = set()
    for survey in session.scalars(select(Survey).where(Survey.project_id == project.id)):
        rules = schedule_facts.rules_for(survey, project)
        sent = session.scalars(
            select(Invitation).where(
                Invitation.survey_id == survey.id,
                Invitation.kind == "invite",
                Invitation.status == "sent",
                Invitation.responded_at.is_(None),
            )
        )
        for invitation in sent:
            key = (survey.id, invitation.person_id)
            if latest[key] > invitation.due_at:
                continue
            if any(at >= invitation.sent_at for at in answers.get(key, [])):
                continue
            person = people[invitation.person_id]
            facts = Facts(
                person_id=person.id,
                has_email=bool(person.email),
                added_at=person.added_at,
                time_zone=person.time_zone,
                unsubscribed=person.unsubscribed_at is not None,
                bounced=person.bounced_at is not None,
            )
            due_at = decide_reminder(rules, facts, invitation.sent_at, False, NOW)
            if due_at is not None:
                expected.add((survey.id, person.id, invitation.window_key, due_at))
    return expected


def test_sql_prefilter_matches_the_full_rules(app):
    with app.app_context():
        session = db()
        project, ids = _populate(session, 600)
        created, reasons, pending = _expected(session, project)
        reminders = _expected_reminders(session, project, created)
        before = set(session.scalars(select(Invitation.id)))

        result = outbox.schedule_due(session, NOW)
        session.commit()

        rows = _scheduled(session, Invitation.kind == "invite", Invitation.id.not_in(before))
        assert rows == created
        assert result.created == len(created) > 50
        assert (result.reasons, result.pending) == (reasons, pending)
        # Every reason shows up, so each SQL branch was taken.
        assert set(reasons) == {
            "unsubscribed",
            "bounced",
            "no_email",
            "throttled",
            "sampled_out",
            "not_due",
        }
        assert pending > 0

        # Reminders: one INSERT ... SELECT with the send time per zone, as the rule says.
        assert _scheduled(session, Invitation.kind == "reminder") == reminders
        assert result.reminders == len(reminders) > 10

        # The per-person view (full rules) agrees: invited now means a pending invitation.
        for person_id in ids[:60]:
            person = session.get(Person, person_id)
            for plan in outbox.person_schedule(session, project, person, NOW):
                new = any(c[0] == plan.survey_id and c[1] == person_id for c in created)
                if new:
                    assert plan.pending_invitation_id is not None

        again = outbox.schedule_due(session, NOW)
        assert again.created == 0
