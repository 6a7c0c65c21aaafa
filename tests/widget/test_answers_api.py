"""POST /w/v1/responses, /dismissals and /feedback: one display, one response; feedback
without a score; tokens that are forged, foreign or early."""

import pytest
from sqlalchemy import select

from service.db import db
from surveys.models import Display, SurveyResponse


@pytest.fixture
def token(widget, survey) -> str:
    return widget.customer().json["display_token"]


@pytest.mark.parametrize(
    ("score", "segment", "followup"),
    [
        (10, "promoter", "Great to hear! What do you like most about Acme?"),
        (7, "passive", "Thanks! What would make Acme better for you?"),
        (0, "detractor", "We're sorry. What disappointed you, and what should we fix first?"),
    ],
)
def test_score_returns_the_segment_followup(widget, token, score, segment, followup):
    r = widget.post("responses", {"display_token": token, "score": score})
    assert r.status_code == 200
    assert r.json["segment"] == segment and r.json["followup"] == followup


def test_localized_followup(widget, survey):
    token = widget.customer(locale="zh").json["display_token"]
    r = widget.post("responses", {"display_token": token, "score": 9})
    assert r.json["followup"] == "太好了！您最喜欢Acme的哪一点？"


def test_survey_followup_override(api, widget, survey):
    api.patch(
        f"/api/v1/surveys/{survey['id']}",
        json={"followup": {"detractor": {"en": "What went wrong?"}}},
    )
    token = widget.customer().json["display_token"]
    assert widget.post("responses", {"display_token": token, "score": 2}).json["followup"] == (
        "What went wrong?"
    )


def test_score_then_comment_is_one_widget_response(app, api, widget, token):
    first = widget.post("responses", {"display_token": token, "score": 9}).json
    second = widget.post("responses", {"display_token": token, "comment": "Fast <b>&</b> simple"})
    assert second.status_code == 200 and second.json["response_id"] == first["response_id"]
    items = api.get("/api/v1/responses").json["items"]
    assert len(items) == 1
    assert items[0]["channel"] == "widget" and items[0]["score"] == 9
    assert items[0]["comment"] == "Fast <b>&</b> simple"
    with app.app_context():
        display = db().scalar(select(Display))
        response = db().scalar(select(SurveyResponse))
        assert response.display_id == display.id and display.responded_at is not None


def test_changed_score_updates_the_same_response(api, widget, token):
    widget.post("responses", {"display_token": token, "score": 3})
    widget.post("responses", {"display_token": token, "score": 6})
    items = api.get("/api/v1/responses").json["items"]
    assert [i["score"] for i in items] == [6]


def test_comment_before_score_is_a_conflict(widget, token):
    r = widget.post("responses", {"display_token": token, "comment": "hello"})
    assert r.status_code == 409 and r.json["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    "body",
    [
        {"score": 11},
        {"score": -1},
        {"score": "9"},
        {"score": 7.5},
        {"comment": "x" * 5001},
        {"comment": "   "},
        {},
    ],
)
def test_invalid_answers(widget, token, body):
    r = widget.post("responses", {"display_token": token, **body})
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid"


def test_missing_token(widget, survey):
    r = widget.post("responses", {"score": 9})
    assert r.status_code == 422 and "display_token" in r.json["error"]["details"]["json"]


@pytest.mark.parametrize("path", ["responses", "dismissals"])
def test_forged_token(widget, token, path):
    r = widget.post(path, {"display_token": token[:-3] + "abc", "score": 9})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_another_projects_token_is_not_found(client, widget, token, other_project):
    from tests.widget.conftest import Widget

    theirs = Widget(client, other_project.publishable_key)
    for path, body in (("responses", {"score": 9}), ("dismissals", {})):
        r = theirs.post(path, {"display_token": token, **body})
        assert r.status_code == 404


def test_closed_survey_refuses_the_answer(api, widget, survey, token):
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"active": False})
    r = widget.post("responses", {"display_token": token, "score": 9})
    assert r.status_code == 409 and r.json["error"]["code"] == "survey_closed"


def test_dismissal_is_idempotent_and_not_after_an_answer(app, widget, survey):
    token = widget.customer().json["display_token"]
    assert widget.post("dismissals", {"display_token": token}).status_code == 200
    assert widget.post("dismissals", {"display_token": token}).status_code == 200
    answered = widget.customer("u-2").json["display_token"]
    widget.post("responses", {"display_token": answered, "score": 9})
    widget.post("dismissals", {"display_token": answered})
    with app.app_context():
        displays = db().scalars(select(Display).order_by(Display.id)).all()
        assert displays[0].dismissed_at is not None
        assert displays[1].dismissed_at is None and displays[1].responded_at is not None


def test_feedback_is_a_response_without_score(api, widget, survey):
    r = widget.post(
        "feedback",
        {
            "anonymous_id": "anon-visitor-1",
            "comment": "Export to CSV is broken",
            "category": "problem",
            "page_url": "https://app.example.com/reports?id=3",
        },
    )
    assert r.status_code == 201
    item = api.get(f"/api/v1/responses/{r.json['response_id']}").json
    assert item["survey_id"] is None and item["score"] is None and item["segment"] is None
    assert item["channel"] == "widget" and item["category"] == "problem"
    assert item["page_url"] == "https://app.example.com/reports?id=3"
    # Feedback counts in no NPS.
    overall = api.get("/api/v1/metrics/nps?count=all").json["overall"]
    assert overall["responses"] == 0 and overall["nps"] is None


def test_feedback_of_an_identified_person(api, widget, survey):
    r = widget.post("feedback", {"external_id": "u-9", "comment": "Love the new editor"})
    person = api.get("/api/v1/people?external_id=u-9").json["items"][0]
    assert api.get(f"/api/v1/responses/{r.json['response_id']}").json["person_id"] == person["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"comment": ""}, "comment"),
        ({}, "comment"),
        ({"comment": "x" * 5001}, "comment"),
        ({"comment": "ok", "page_url": "javascript:alert(1)"}, "page_url"),
        ({"comment": "ok", "category": "c" * 65}, "category"),
    ],
)
def test_invalid_feedback(widget, body, field):
    r = widget.post("feedback", {"anonymous_id": "anon-visitor-1", **body})
    assert r.status_code == 422 and field in r.json["error"]["details"]["json"]
