"""Answers written behind the service's back (plain SQL) are found by the worker's check: the
project turns stale, movement reads the answers themselves until the rebuild, and is right
before and after it. Answers stored by the service itself never trip the check."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from service.db import db
from service.worker import period_jobs
from surveys import period_answers
from surveys.models import Project
from tests.analytics.helpers import cells, exclude, movement, rebuilt, rows
from tests.answers import answer

QUERY = "from=2026-Q1&to=2026-Q2"
TRUTH = {
    ("promoter", "detractor"): 1,
    ("detractor", "promoter"): 1,
    ("passive", "passive"): 1,
}


def _behind_the_back(app, project_id: int, survey_id: int, person_ids: dict[str, int]) -> None:
    """What a restore, a hand-made fix or a bulk load that skipped the upkeep does."""
    with app.app_context():
        session = db()
        when = datetime(2026, 1, 1)
        pid = session.execute(
            text(
                "INSERT INTO people (project_id, external_id, properties, added_at, updated_at,"
                " anonymous, trusted) VALUES (:p, 'c', '{}', :t, :t, false, true) RETURNING id"
            ),
            {"p": project_id, "t": when},
        ).scalar_one()
        for person, score, created in (
            (person_ids["a"], 2, datetime(2026, 5, 1, 12)),
            (person_ids["b"], 10, datetime(2026, 5, 2, 12)),
            (pid, 8, datetime(2026, 2, 3, 12)),
            (pid, 8, datetime(2026, 5, 3, 12)),
        ):
            session.execute(
                text(
                    "INSERT INTO survey_responses (project_id, survey_id, person_id, score,"
                    " channel, excluded, properties, created_at, updated_at)"
                    " VALUES (:p, :s, :person, :score, 'api', false, '{}', :c, :c)"
                ),
                {"p": project_id, "s": survey_id, "person": person, "score": score, "c": created},
            )
        session.commit()


def _stale(app, project_id: int) -> bool:
    with app.app_context():
        return not period_answers.is_current(db().get(Project, project_id))


def test_answers_written_past_the_upkeep_are_found_and_rebuilt(app, api, project, survey_id):
    a = answer(api, survey_id, "a", 9, "2026-02-01T12:00:00Z")
    b = answer(api, survey_id, "b", 3, "2026-02-02T12:00:00Z")
    with app.app_context():
        assert period_jobs.check_kept(app) == 0
    assert not _stale(app, project.id)

    _behind_the_back(app, project.id, survey_id, {"a": a["person_id"], "b": b["person_id"]})
    # The pre-aggregate knows nothing of them: the movement it gives is wrong.
    assert cells(movement(api, survey_id, QUERY)) == {}

    with app.app_context():
        assert period_jobs.check_kept(app) == 1
    assert _stale(app, project.id)
    # Stale rows are not read: the answers themselves are ranked.
    assert cells(movement(api, survey_id, QUERY)) == TRUTH

    with app.app_context():
        assert period_jobs.rebuild_stale(app) == 1
        assert period_jobs.check_kept(app) == 0
    assert not _stale(app, project.id)
    assert rows(app, project.id) == rebuilt(app, project.id)
    assert cells(movement(api, survey_id, QUERY)) == TRUTH


def test_the_service_own_answers_never_trip_the_check(app, api, project, survey_id):
    answer(api, survey_id, "a", 9, "2026-02-20T12:00:00Z")
    answer(api, survey_id, "a", 2, "2026-02-10T12:00:00Z")  # older, arrives later
    with app.app_context():
        assert period_jobs.check_kept(app) == 0
    late = answer(api, survey_id, "b", 10, "2026-06-30T12:00:00Z")
    answer(api, survey_id, "b", 4, "2026-06-01T12:00:00Z")
    exclude(api, late)
    tie = [answer(api, survey_id, "c", s, "2026-05-05T10:00:00Z") for s in (3, 8)]
    assert tie[0]["id"] < tie[1]["id"]
    api.post(
        "/api/v1/responses/batch",
        json={
            "responses": [
                {
                    "survey_id": survey_id,
                    "person": {"external_id": "d"},
                    "score": s,
                    "created_at": t,
                }
                for s, t in ((7, "2026-01-05T00:00:00Z"), (1, "2025-12-31T23:59:59Z"))
            ]
        },
    )
    with app.app_context():
        assert period_jobs.check_kept(app) == 0
        assert period_jobs.check_kept(app) == 0  # nothing new since
    assert not _stale(app, project.id)
