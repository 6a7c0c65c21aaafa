"""Identity verification: with `require_identity_verification`, only a valid user_hash lets a
visit act as, read or change a person; without one the visitor is served anonymously."""

import pytest

from surveys.keys import user_hash
from tests.widget.conftest import OLD_CUSTOMER


@pytest.fixture
def strict(api, survey):
    r = api.patch("/api/v1/project", json={"require_identity_verification": True})
    assert r.json["require_identity_verification"] is True


def signed(project, external_id: str) -> str:
    return user_hash(project.identity_secret, external_id)


def test_valid_hash_identifies(strict, widget, project, api):
    r = widget.customer(user_hash=signed(project, "u-1"), email="ann@example.com")
    assert r.json["identified"] is True and r.json["show"] is True and "identity" not in r.json
    assert api.get("/api/v1/people?external_id=u-1").json["items"][0]["email"] == (
        "ann@example.com"
    )


def test_uppercase_hash_is_accepted(strict, widget, project):
    r = widget.customer(user_hash=signed(project, "u-1").upper())
    assert r.json["identified"] is True


@pytest.mark.parametrize("bad", [None, "", "0" * 64, "not-hex", "SIGNED-FOR-u-2"])
def test_missing_or_wrong_hash_is_anonymous(strict, widget, project, api, bad):
    api.post("/api/v1/people", json={"external_id": "u-1", "email": "ann@example.com"})
    given = signed(project, "u-2") if bad == "SIGNED-FOR-u-2" else bad
    body = {"anonymous_id": "anon-visitor-1", "email": "evil@example.com", "name": "Mallory"}
    r = widget.customer(**body, user_hash=given)
    assert r.status_code == 200
    assert r.json["identified"] is False and r.json["identity"] == "unverified"
    # Could not change that person...
    person = api.get("/api/v1/people?external_id=u-1").json["items"][0]
    assert person["email"] == "ann@example.com" and person["name"] is None
    # ...nor create a person under that id, nor put the given email on the anonymous one.
    assert api.get("/api/v1/people?email=evil@example.com").json["items"] == []


def test_unverified_visit_cannot_read_the_persons_history(strict, widget, project, api, survey):
    api.post(
        "/api/v1/responses",
        json={"survey_id": survey["id"], "person": {"external_id": "u-1"}, "score": 2},
    )
    real = widget.customer(user_hash=signed(project, "u-1")).json
    assert real["reason"] == "answered_recently"
    fake = widget.customer(anonymous_id="anon-visitor-1", user_hash="0" * 64).json
    # Answered as the anonymous visitor: nothing of u-1 leaks into the decision.
    assert fake["reason"] == "too_new"


def test_unverified_visit_without_anonymous_id_is_invalid(strict, widget):
    r = widget.customer(user_hash="0" * 64)
    assert r.status_code == 422 and "anonymous_id" in r.json["error"]["details"]


def test_unverified_answer_goes_to_the_anonymous_person(strict, api, widget, project):
    api.patch(
        f"/api/v1/surveys/{api.get('/api/v1/surveys').json['items'][0]['id']}",
        json={"min_age_days": 0},
    )
    body = widget.customer(anonymous_id="anon-visitor-1", user_hash="bad").json
    r = widget.post("responses", {"display_token": body["display_token"], "score": 9})
    response = api.get(f"/api/v1/responses/{r.json['response_id']}").json
    anon = api.get("/api/v1/people?external_id=anon:anon-visitor-1").json["items"][0]
    assert response["person_id"] == anon["id"]
    assert api.get("/api/v1/people?external_id=u-1").json["items"] == []


def test_feedback_with_wrong_hash_is_anonymous(strict, api, widget):
    r = widget.post(
        "feedback",
        {
            "external_id": "u-1",
            "user_hash": "0" * 64,
            "anonymous_id": "anon-visitor-1",
            "comment": "hi",
        },
    )
    assert r.status_code == 201
    assert api.get("/api/v1/people?external_id=u-1").json["items"] == []


def test_without_the_setting_any_external_id_is_taken(widget, api, survey):
    api.patch("/api/v1/project", json={"require_identity_verification": False})
    r = widget.visit(external_id="u-1", created_at=OLD_CUSTOMER, user_hash="whatever")
    assert r.json["identified"] is True
    assert len(api.get("/api/v1/people?external_id=u-1").json["items"]) == 1


def test_rotating_keys_changes_the_identity_secret(app, strict, widget, project):
    from service.db import db
    from surveys.keys import identity_secret
    from surveys.projects import rotate_keys
    from tests.conftest import TEST_SECRET
    from tests.widget.conftest import Widget

    with app.app_context():
        new = rotate_keys(db(), project.id)
        db().commit()
    rotated = Widget(widget.client, new.keys.publishable_key)
    old_hash = signed(project, "u-1")
    r = rotated.customer(user_hash=old_hash, anonymous_id="anon-visitor-1")
    assert r.json["identified"] is False
    fresh = user_hash(identity_secret(TEST_SECRET, new.keys.identity_salt), "u-1")
    assert rotated.customer(user_hash=fresh).json["identified"] is True
