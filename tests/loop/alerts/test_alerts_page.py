"""The team app's Alerts page: editors add, change, test and delete rules; viewers read them;
another project's rule is 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.db import db
from surveys.accounts.roles import Role
from surveys.models import AlertEvent, AlertRule
from tests.app.conftest import TeamClient, add_user
from tests.conftest import make_project

RULE = {
    "name": "Enterprise detractors",
    "kind": "detractor",
    "destination": "email",
    "emails": "cx@acme.test, lead@acme.test",
    "group_seconds": "60",
    "property_key": "plan",
    "property_value": "enterprise",
    "active": "y",
}


@pytest.fixture
def editor_client(app, project) -> TeamClient:
    add_user(app, project.id, "editor@acme.test", Role.EDITOR)
    team = TeamClient(app.test_client())
    team.sign_in("editor@acme.test")
    return team


def _rules(app) -> list[AlertRule]:
    with app.app_context():
        rules = list(db().scalars(select(AlertRule).order_by(AlertRule.id)))
        db().expunge_all()
        return rules


def test_an_editor_adds_changes_tests_and_deletes_a_rule(app, editor_client):
    page = editor_client.get("/app/alerts")
    assert page.status_code == 200
    assert "No alert rules yet." in page.get_data(as_text=True)
    r = editor_client.post("/app/alerts", RULE)
    assert r.status_code == 302, r.get_data(as_text=True)
    [rule] = _rules(app)
    assert rule.emails == ["cx@acme.test", "lead@acme.test"]
    assert rule.property_key == "plan" and rule.active
    text = editor_client.get("/app/alerts").get_data(as_text=True)
    assert "Enterprise detractors" in text and "cx@acme.test, lead@acme.test" in text

    edit = editor_client.get(f"/app/alerts/{rule.id}").get_data(as_text=True)
    assert "Change “Enterprise detractors”" in edit
    changed = {**RULE, "name": "All detractors", "property_key": "", "property_value": ""}
    changed.pop("active")  # an unticked box sends nothing
    assert editor_client.post(f"/app/alerts/{rule.id}", changed).status_code == 302
    [rule] = _rules(app)
    assert rule.name == "All detractors" and rule.property_key is None and not rule.active

    assert editor_client.post(f"/app/alerts/{rule.id}/test").status_code == 302
    with app.app_context():
        assert db().scalar(select(AlertEvent.subject)).startswith("test:")
    assert editor_client.post(f"/app/alerts/{rule.id}/delete").status_code == 302
    assert _rules(app) == []


def test_bad_input_shows_under_its_field(app, editor_client):
    r = editor_client.post("/app/alerts", {**RULE, "emails": "not an address"})
    assert r.status_code == 422
    assert "is not an email address" in r.get_data(as_text=True)
    r = editor_client.post(
        "/app/alerts", {**RULE, "destination": "slack", "url": "http://127.0.0.1/hook"}
    )
    assert r.status_code == 422
    assert "private, loopback or link-local" in r.get_data(as_text=True)
    r = editor_client.post("/app/alerts", {**RULE, "group_seconds": "-5"})
    assert r.status_code == 422
    assert _rules(app) == []


def test_a_viewer_reads_but_cannot_change(app, project, editor_client):
    editor_client.post("/app/alerts", RULE)
    [rule] = _rules(app)
    add_user(app, project.id, "viewer@acme.test", Role.VIEWER)
    viewer = TeamClient(app.test_client())
    viewer.sign_in("viewer@acme.test")
    text = viewer.get("/app/alerts").get_data(as_text=True)
    assert "Enterprise detractors" in text and "Add a rule" not in text
    assert 'href="/app/alerts"' in text  # in the navigation
    assert viewer.post("/app/alerts", RULE).status_code == 403
    assert viewer.post(f"/app/alerts/{rule.id}/delete").status_code == 403
    assert viewer.post(f"/app/alerts/{rule.id}/test").status_code == 403
    assert len(_rules(app)) == 1


def test_another_projects_rule_is_404(app, editor_client):
    other = make_project(app, "Other")
    add_user(app, other.id, "them@other.test", Role.OWNER)
    them = TeamClient(app.test_client())
    them.sign_in("them@other.test")
    them.post("/app/alerts", RULE)
    [rule] = _rules(app)
    assert editor_client.get(f"/app/alerts/{rule.id}").status_code == 404
    assert editor_client.post(f"/app/alerts/{rule.id}", RULE).status_code == 404
    assert editor_client.post(f"/app/alerts/{rule.id}/delete").status_code == 404
    assert len(_rules(app)) == 1
