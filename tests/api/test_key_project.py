"""The project a secret key opens: read once per request as a row, made an object of the
session only for the views that need one. An answer through the API needs none, and still
counts in the project's time zone and sends the events the project listens to."""

from __future__ import annotations

from sqlalchemy import select

from service.db import db
from surveys.models import PeriodAnswer, Project
from surveys.projects import attach, secret_key_row


def test_an_answer_cuts_its_period_in_the_zone_the_key_row_carries(app, api):
    # 2025-03-31 23:30 UTC is already 2025-04-01 in Berlin: the second quarter there.
    assert api.patch("/api/v1/project", json={"time_zone": "Europe/Berlin"}).status_code == 200
    survey = api.post("/api/v1/surveys", json={"name": "Q"}).get_json()
    body = {
        "survey_id": survey["id"],
        "person": {"external_id": "late-march"},
        "score": 3,
        "created_at": "2025-03-31T23:30:00Z",
    }
    assert api.post("/api/v1/responses", json=body).status_code == 201
    with app.app_context():
        periods = (
            db().scalars(select(PeriodAnswer.period).where(PeriodAnswer.unit == "quarter")).all()
        )
    assert periods == ["2025-Q2"]


def test_attach_makes_one_object_per_session_with_its_own_json_values(app, project):
    with app.app_context():
        session = db()
        row = secret_key_row(session, project.secret_key)
        assert row is not None and row.id == project.id
        assert not session.identity_map  # the read alone leaves the session empty
        attached = attach(session, row)
        assert attach(session, row) is attached
        assert session.get(Project, project.id) is attached
        attached.allowed_origins.append("https://changed.example")
        again = secret_key_row(session, project.secret_key)
        assert "https://changed.example" not in again.allowed_origins
        assert secret_key_row(session, "not-a-key") is None


def test_a_view_that_changes_the_project_still_gets_an_object(api):
    r = api.patch("/api/v1/project", json={"name": "Renamed"})
    assert r.status_code == 200 and r.get_json()["name"] == "Renamed"
    assert api.get("/api/v1/project").get_json()["name"] == "Renamed"
