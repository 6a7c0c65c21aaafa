"""Helpers shared by the movement tests: exclude answers, read movement through the API, and
read the kept period answers beside a rebuild of them."""

from __future__ import annotations

from sqlalchemy import select

from service.db import db
from surveys import period_answers
from surveys.models import PeriodAnswer, Project, Survey


def exclude(api, response):
    r = api.patch(f"/api/v1/responses/{response['id']}", json={"excluded": True})
    assert r.status_code == 200, r.json


def movement(api, survey_id, query=""):
    r = api.get(f"/api/v1/metrics/movement?survey_id={survey_id}&{query}")
    assert r.status_code == 200, r.json
    return r.json


def cells(m, key="count"):
    """The matrix as {(from, to): value} for the non-zero cells."""
    return {
        (a, b): cell[key] for a, row in m["matrix"].items() for b, cell in row.items() if cell[key]
    }


def _select(project_id: int):
    pa = PeriodAnswer
    surveys = select(Survey.id).where(Survey.project_id == project_id)
    return select(pa.survey_id, pa.unit, pa.period, pa.person_id, pa.score, pa.response_id).where(
        pa.survey_id.in_(surveys)
    )


def rows(app, project_id: int) -> set[tuple]:
    with app.app_context():
        return set(db().execute(_select(project_id)).all())


def rebuilt(app, project_id: int) -> set[tuple]:
    """The rows a full rebuild makes, rolled back afterwards."""
    with app.app_context():
        session = db()
        period_answers.rebuild(session, session.get(Project, project_id))
        out = set(session.execute(_select(project_id)).all())
        session.rollback()
        return out
