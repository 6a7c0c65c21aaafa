"""POST /w/v1/visits: person upsert, every reason the server gives, displays and resumption."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.db import db
from surveys.clock import utcnow
from surveys.models import Display, Invitation, Person


def count_displays(app) -> int:
    with app.app_context():
        return db().scalar(select(func.count()).select_from(Display))


def test_due_customer_sees_the_survey(app, widget, survey, api):
    r = widget.customer(
        email="Ann@Example.com", name="Ann", locale="ru-RU", properties={"plan": "pro"}
    )
    assert r.status_code == 200
    body = r.json
    assert body["show"] is True and body["reason"] == "eligible"
    assert body["display_token"] and body["identified"] is True and body["locale"] == "ru"
    assert body["survey"] == {
        "id": survey["id"],
        "question": "Насколько вероятно, что вы порекомендуете Acme другу или коллеге?",
        "product_name": "Acme",
    }
    person = api.get("/api/v1/people?external_id=u-1").json["items"][0]
    assert person["email"] == "ann@example.com" and person["properties"] == {"plan": "pro"}
    assert count_displays(app) == 1


def test_open_display_is_resumed_not_duplicated(app, widget, survey):
    first = widget.customer().json
    again = widget.customer().json
    assert again["show"] is True and again["reason"] == "resumed"
    assert count_displays(app) == 1
    score = widget.post("responses", {"display_token": again["display_token"], "score": 8})
    assert score.status_code == 200
    # Both tokens name the same display: the first one now updates the same response.
    comment = widget.post("responses", {"display_token": first["display_token"], "comment": "ok"})
    assert comment.json["response_id"] == score.json["response_id"]


def test_new_anonymous_visitor_is_too_new(widget, survey):
    body = widget.visit(anonymous_id="anon-visitor-1", browser_locale="zh-CN").json
    assert body == {
        "show": False,
        "reason": "too_new",
        "retry_after": 86400,
        "identified": False,
        "locale": "zh",
    }


def test_anonymous_visitor_shown_when_survey_allows_new_people(api, widget, survey):
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"min_age_days": 0})
    body = widget.visit(anonymous_id="anon-visitor-1").json
    assert body["show"] is True and body["identified"] is False


def test_young_customer_is_too_new_with_retry_after(widget, survey):
    created = (utcnow() - timedelta(days=29, hours=23)).isoformat() + "Z"
    body = widget.visit(external_id="u-2", created_at=created).json
    assert body["reason"] == "too_new"
    assert 60 <= body["retry_after"] <= 3700


def test_answered_recently_after_answering(widget, survey):
    token = widget.customer().json["display_token"]
    widget.post("responses", {"display_token": token, "score": 10})
    body = widget.customer().json
    assert (body["show"], body["reason"], body["retry_after"]) == (
        False,
        "answered_recently",
        86400,
    )


def test_answer_on_another_channel_counts_for_cadence(api, widget, survey):
    api.post(
        "/api/v1/responses",
        json={"survey_id": survey["id"], "person": {"external_id": "u-1"}, "score": 3},
    )
    assert widget.customer().json["reason"] == "answered_recently"


def test_dismissed_recently(widget, survey):
    token = widget.customer().json["display_token"]
    r = widget.post("dismissals", {"display_token": token})
    assert r.status_code == 200 and r.json == {"dismissed": True}
    assert widget.customer().json["reason"] == "dismissed_recently"


def test_throttled_by_a_recent_email(app, widget, survey, api, project):
    person_id = api.post("/api/v1/people", json={"external_id": "u-1"}).json["id"]
    with app.app_context():
        db().add(
            Invitation(
                project_id=project.id,
                survey_id=survey["id"],
                person_id=person_id,
                window_key="w",
                status="sent",
                due_at=utcnow() - timedelta(days=2),
                sent_at=utcnow() - timedelta(days=2),
            )
        )
        db().commit()
    assert widget.customer().json["reason"] == "throttled"
    api.patch("/api/v1/project", json={"throttle_days": 1})
    app.extensions["flywheel.caches"]["widget_keys"].clear()
    assert widget.customer().json["show"] is True


def test_throttled_by_an_answer_to_another_survey(api, widget, survey):
    other = api.post("/api/v1/surveys", json={"name": "Email only", "channels": ["email"]}).json
    api.post(
        "/api/v1/responses",
        json={"survey_id": other["id"], "person": {"external_id": "u-1"}, "score": 9},
    )
    assert widget.customer().json["reason"] == "throttled"


def test_sampled_out(api, widget, survey):
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"sample_rate": 0.0})
    body = widget.customer().json
    assert body["reason"] == "sampled_out" and body["retry_after"] <= 86400


def test_daily_cap(api, widget, survey):
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"daily_response_cap": 1})
    token = widget.customer("u-1").json["display_token"]
    widget.post("responses", {"display_token": token, "score": 7})
    assert widget.customer("u-2").json["reason"] == "daily_cap"


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"active": False}, "survey_inactive"), ({"channels": ["email"]}, "no_widget_channel")],
)
def test_survey_state_reasons(api, widget, survey, change, reason):
    api.patch(f"/api/v1/surveys/{survey['id']}", json=change)
    assert widget.customer().json["reason"] == reason


def test_no_survey(widget):
    assert widget.customer().json["reason"] == "no_survey"


def test_active_widget_survey_is_chosen_over_others(api, widget, survey):
    api.post("/api/v1/surveys", json={"name": "Closed", "active": False})
    body = widget.customer().json
    assert body["show"] and body["survey"]["id"] == survey["id"]


def test_force_shows_to_a_new_person_but_not_after_an_answer(widget, survey):
    assert widget.visit(anonymous_id="anon-visitor-9").json["reason"] == "too_new"
    forced = widget.visit(anonymous_id="anon-visitor-9", force=True).json
    assert forced["show"] and forced["reason"] == "forced"
    widget.post("responses", {"display_token": forced["display_token"], "score": 5})
    assert widget.visit(anonymous_id="anon-visitor-9", force=True).json["show"] is False


def test_survey_id_targets_one_survey(api, widget, survey, other_api):
    second = api.post("/api/v1/surveys", json={"name": "Second"}).json
    assert widget.customer(survey_id=second["id"]).json["survey"]["id"] == second["id"]
    foreign = other_api.post("/api/v1/surveys", json={"name": "Theirs"}).json
    r = widget.customer(survey_id=foreign["id"])
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_anonymous_person_is_marked(app, widget, survey):
    widget.visit(anonymous_id="anon-visitor-1")
    with app.app_context():
        person = db().scalar(select(Person))
        assert person.anonymous is True and person.external_id == "anon:anon-visitor-1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "anonymous_id"),
        ({"anonymous_id": "short"}, "anonymous_id"),
        ({"anonymous_id": "has spaces in it"}, "anonymous_id"),
        ({"external_id": "u-1", "email": "not-an-email"}, "email"),
        ({"external_id": "u-1", "created_at": "yesterday"}, "created_at"),
        ({"external_id": "u-1", "properties": {"a": [1]}}, "properties"),
        ({"external_id": "u-1", "survey_id": "1"}, "survey_id"),
    ],
)
def test_invalid_visits(widget, survey, body, field):
    r = widget.visit(**body)
    assert r.status_code == 422
    error = r.json["error"]
    assert error["code"] == "invalid"
    assert field in error["details"].get("json", error["details"])


def test_malformed_bodies(widget, client, project):
    # Not JSON, not an object, empty, not UTF-8, and nested deeper than the parser's stack.
    for data in (b"{not json", b"[1, 2]", b"", b'{"anonymous_id": "\xff\xfe"}', b"[" * 100_000):
        r = client.post(
            f"/w/v1/visits?key={project.publishable_key}",
            data=data,
            content_type="text/plain",
        )
        assert r.status_code == 400 and r.json["error"]["code"] == "malformed_json"


def test_bodies_without_a_length_or_over_the_limit(client, project, survey, app):
    url = f"/w/v1/visits?key={project.publishable_key}"
    body = b'{"anonymous_id": "anon-visitor-1"}'
    # Chunked, so with no Content-Length: read through werkzeug, the server ending the stream.
    r = client.post(
        url,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )
    assert r.status_code == 200 and r.json["reason"] == "too_new"
    app.config["MAX_CONTENT_LENGTH"] = len(body) - 1
    r = client.post(url, data=body, content_type="text/plain")
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"


def test_text_plain_body_is_accepted(client, project, survey):
    r = client.post(
        f"/w/v1/visits?key={project.publishable_key}",
        data='{"anonymous_id": "anon-visitor-1"}',
        content_type="text/plain",
    )
    assert r.status_code == 200 and r.json["reason"] == "too_new"
