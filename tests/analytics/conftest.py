"""Fixtures of the movement tests: a survey of the calling project."""

import pytest


@pytest.fixture
def survey_id(api):
    r = api.post("/api/v1/surveys", json={"name": "Quarterly NPS"})
    assert r.status_code == 201, r.json
    return r.json["id"]
