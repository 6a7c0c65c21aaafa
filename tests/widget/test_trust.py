"""The publishable key cannot rewrite a customer: without a valid user_hash, a widget visit never
changes a person the project's server wrote (secret-key API, batch) or a verified visit wrote;
it may fill in only people the widget itself made. New projects require verification."""

from __future__ import annotations

import pytest

from surveys.keys import user_hash
from tests.conftest import make_project
from tests.widget.conftest import OLD_CUSTOMER, Widget

SET_BY_SERVER = {"email": "ann@example.com", "name": "Ann", "properties": {"mrr": 5000}}
FORGED = {"email": "evil@example.com", "name": "Mallory", "properties": {"mrr": 0, "new": 1}}


def person(api, external_id: str = "u-1") -> dict:
    return api.get(f"/api/v1/people?external_id={external_id}").json["items"][0]


def people_post(api, survey):
    assert api.post("/api/v1/people", json={"external_id": "u-1", **SET_BY_SERVER}).status_code in (
        200,
        201,
    )


def batch(api, survey):
    r = api.post("/api/v1/people/batch", json={"people": [{"external_id": "u-1", **SET_BY_SERVER}]})
    assert r.json["failed"] == 0


def patch_after_widget(api, survey):
    """The widget made the person; the server then changed them."""
    unverified(api).visit(external_id="u-1", email="first@example.com")
    person_id = person(api)["id"]
    assert api.patch(f"/api/v1/people/{person_id}", json=SET_BY_SERVER).status_code == 200


def upsert_after_widget(api, survey):
    unverified(api).visit(external_id="u-1", properties={"mrr": 1})
    assert api.post("/api/v1/people", json={"external_id": "u-1", **SET_BY_SERVER}).status_code in (
        200,
        201,
    )


def response_then_people(api, survey):
    """The responses API created the person; the server's sync filled them in."""
    body = {"survey_id": survey["id"], "person": {"external_id": "u-1"}, "score": 9}
    assert api.post("/api/v1/responses", json=body).status_code == 201
    assert api.post("/api/v1/people", json={"external_id": "u-1", **SET_BY_SERVER}).status_code in (
        200,
        201,
    )


def unverified(api) -> Widget:
    """widget.js on a page that sends no user_hash."""
    return Widget(api.client, api.keys.publishable_key)


@pytest.fixture
def verification_off(api):
    r = api.patch("/api/v1/project", json={"require_identity_verification": False})
    assert r.json["require_identity_verification"] is False


@pytest.mark.parametrize(
    "server_write",
    [people_post, batch, patch_after_widget, upsert_after_widget, response_then_people],
)
@pytest.mark.parametrize("door", ["visits", "feedback"])
def test_unverified_visit_cannot_rewrite_what_the_server_set(
    verification_off, api, survey, server_write, door
):
    server_write(api, survey)
    body = {"external_id": "u-1", "anonymous_id": "anon-visitor-1", **FORGED}
    if door == "feedback":
        body["comment"] = "hello"
    r = unverified(api).post(door, {**body, "created_at": OLD_CUSTOMER, "locale": "ru"})
    assert r.status_code in (200, 201), r.json
    after = person(api)
    assert after["email"] == "ann@example.com" and after["name"] == "Ann"
    assert after["properties"] == {"mrr": 5000}
    assert after["created_at"] is None and after["locale"] is None


def test_unverified_answer_snapshot_keeps_the_servers_properties(verification_off, api, survey):
    people_post(api, survey)
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"min_age_days": 0})
    visit = unverified(api).visit(external_id="u-1", properties={"mrr": 0}).json
    answer = unverified(api).post(
        "responses", {"display_token": visit["display_token"], "score": 3}
    )
    stored = api.get(f"/api/v1/responses/{answer.json['response_id']}").json
    assert stored["properties"] == {"mrr": 5000}


def test_unverified_visit_fills_a_person_the_widget_made(verification_off, api, survey):
    widget = unverified(api)
    assert widget.visit(external_id="u-2", email="bob@example.com").json["identified"] is True
    widget.visit(external_id="u-2", name="Bob", properties={"plan": "pro"})
    made = person(api, "u-2")
    assert (made["email"], made["name"], made["properties"]) == (
        "bob@example.com",
        "Bob",
        {"plan": "pro"},
    )


@pytest.mark.parametrize("required", [True, False])
def test_a_valid_user_hash_may_change_a_server_set_person(api, project, survey, required):
    api.patch("/api/v1/project", json={"require_identity_verification": required})
    people_post(api, survey)
    signed = user_hash(project.identity_secret, "u-1")
    r = unverified(api).visit(external_id="u-1", user_hash=signed, **FORGED)
    assert r.json["identified"] is True and "identity" not in r.json
    after = person(api)
    assert after["email"] == "evil@example.com"
    assert after["properties"] == {"mrr": 0, "new": 1}


def test_a_person_a_verified_visit_wrote_is_the_servers(app, api, project, survey):
    signed = user_hash(project.identity_secret, "u-1")
    unverified(api).visit(external_id="u-1", user_hash=signed, **SET_BY_SERVER)
    api.patch("/api/v1/project", json={"require_identity_verification": False})
    app.extensions["flywheel.caches"][
        "widget_keys"
    ].clear()  # the new setting at once, not within 5 s
    assert unverified(api).visit(external_id="u-1", **FORGED).json["identified"] is True
    assert person(api)["email"] == "ann@example.com"


def test_new_projects_require_verification(app, client):
    keys = make_project(app, "Fresh")
    settings = client.get("/api/v1/project", headers=keys.auth).json
    assert settings["require_identity_verification"] is True
    fresh = Widget(client, keys.publishable_key)
    # A page that identifies without user_hash: served as the anonymous visitor it also is.
    claimed = fresh.visit(external_id="u-1", anonymous_id="anon-visitor-1", email="x@example.com")
    assert claimed.status_code == 200
    assert claimed.json["identified"] is False and claimed.json["identity"] == "unverified"
    listed = client.get("/api/v1/people?external_id=u-1", headers=keys.auth).json["items"]
    assert listed == []
    # Anonymous visitors work as before, and a signed identify is taken.
    assert fresh.visit(anonymous_id="anon-visitor-2").json["identified"] is False
    signed = user_hash(keys.identity_secret, "u-1")
    assert fresh.visit(external_id="u-1", user_hash=signed).json["identified"] is True
