"""Fixtures of the triage tests: a survey, two members and a helper that records answers."""

from __future__ import annotations

import pytest

from surveys.accounts.roles import Role
from tests.app.conftest import add_user


@pytest.fixture
def survey_id(api):
    r = api.post("/api/v1/surveys", json={"name": "Quarterly NPS"})
    assert r.status_code == 201, r.json
    return r.json["id"]


@pytest.fixture
def ana(app, project):
    return add_user(app, project.id, "ana@acme.test", Role.EDITOR, password=None)


@pytest.fixture
def ben(app, project):
    return add_user(app, project.id, "ben@acme.test", Role.EDITOR, password=None)


def answer(api, survey_id, who, score, when=None, comment=None, properties=None):
    body = {"survey_id": survey_id, "person": {"external_id": who}, "score": score}
    if when:
        body["created_at"] = when
    if comment:
        body["comment"] = comment
    if properties:
        body["properties"] = properties
    r = api.post("/api/v1/responses", json=body)
    assert r.status_code == 201, r.json
    return r.json
