"""Helpers shared by the movement tests: exclude answers, read movement through the API, and
read the kept period answers beside a rebuild of them."""

from __future__ import annotations

from sqlalchemy import select

from service.db import db
from surveys import period_answers
from surveys.models import PeriodAnswer, Project, Survey
from surveys.periods import period_from_label, previous_period
from surveys.segments import rank_of


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


def _select(project_id: int, linked: bool = False):
    pa = PeriodAnswer
    surveys = select(Survey.id).where(Survey.project_id == project_id)
    columns = [pa.survey_id, pa.unit, pa.period, pa.person_id, pa.score, pa.response_id]
    if linked:
        columns += [pa.weight, pa.prev_score, pa.prev_weight, pa.rise]
    return select(*columns).where(pa.survey_id.in_(surveys))


def rows(app, project_id: int, linked: bool = False) -> set[tuple]:
    """The kept rows; `linked`: with their weight and previous-period fields too."""
    with app.app_context():
        return set(db().execute(_select(project_id, linked)).all())


def rebuilt(app, project_id: int, linked: bool = False) -> set[tuple]:
    """The rows a full rebuild makes, rolled back afterwards."""
    with app.app_context():
        session = db()
        written = period_answers.rebuild(session, session.get(Project, project_id))
        out = set(session.execute(_select(project_id, linked)).all())
        session.rollback()
        assert written == len(out), (written, len(out))  # the rows it reports, on both databases
        return out


def assert_linked(kept: set[tuple], time_zone: str = "UTC") -> None:
    """Each row's previous-period fields are those of the same person's row in the previous
    period, worked out here from the rows themselves (`rows(..., linked=True)`)."""
    by_key = {(s, u, p, person): row for row in kept for s, u, p, person in [row[:4]]}
    for survey, unit, period, person, score, _, _, prev_score, prev_weight, rise in kept:
        before = previous_period(period_from_label(period, unit, time_zone), unit, time_zone)
        prev = by_key.get((survey, unit, before.label, person))
        want = (
            (None, None, None)
            if prev is None
            else (prev[4], prev[6], rank_of(score) - rank_of(prev[4]))
        )
        assert (prev_score, prev_weight, rise) == want, (unit, period, person, score)
