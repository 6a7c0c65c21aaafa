"""Theme runs through the API and the worker: numbers checked by hand, sorts, isolation,
failures, tiny inputs and responses assigned after a run."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from service.db import db
from service.worker.loop import run_once
from surveys.models import ThemeRun
from tests.themes.corpus import (
    COMMENTS,
    EXPECTED,
    OVERALL_NPS,
    QUARTER_TOTALS,
    RANKED,
    RESPONDENTS,
    SLOPES,
    UNTIL,
    add_feedback,
    load,
)


def queue(api, **body):
    r = api.post("/api/v1/themes/runs", json=body)
    assert r.status_code == 202, r.json
    assert r.json["status"] == "queued"
    return r.json


def fit(app, api, **body):
    run = queue(api, **body)
    assert run_once(app)["theme_runs"] == 1
    return api.get(f"/api/v1/themes/runs/{run['id']}").json


def themes_by_name(api, ids, run_id):
    """Map each hand-made group to the friction point holding its responses."""
    points = api.get(f"/api/v1/themes?run_id={run_id}").json["items"]
    out = {}
    for name in EXPECTED:
        members = set(ids[name])
        holders = [p for p in points if members & {q for q in _response_ids(api, p["id"])}]
        assert len(holders) == 1, (name, [p["label"] for p in holders])
        assert set(_response_ids(api, holders[0]["id"])) == members, name
        out[name] = holders[0]
    return out


def _response_ids(api, point_id):
    ids, cursor = [], None
    while True:
        url = f"/api/v1/themes/{point_id}/responses?limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = api.get(url).json
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


@pytest.fixture
def corpus(app, api):
    return load(api, app)


def test_run_ranks_friction_points_with_hand_computed_numbers(app, api, corpus):
    run = fit(app, api, until=UNTIL, n_themes=5)
    assert run["status"] == "done", run["message"]
    assert run["counts"]["comments"] == COMMENTS
    assert run["counts"]["respondents"] == RESPONDENTS
    assert run["counts"]["nps"] == OVERALL_NPS
    assert run["counts"]["themes"] == 5
    assert run["unassigned_share"] == 0.0
    assert run["params"]["segments"] == ["detractor", "passive", "feedback"]
    assert run["params"]["until"] == UNTIL and run["params"]["since"] is None
    assert run["duration_seconds"] >= 0 and run["model_version"]
    points = themes_by_name(api, corpus, run["id"])
    for name, (size, det, pas, avg, impact, revenue, quarters) in EXPECTED.items():
        p = points[name]
        assert (p["size"], p["detractors"], p["passives"]) == (size, det, pas), name
        assert p["average_score"] == avg, name
        assert p["nps_impact"] == impact, name
        assert p["revenue_at_risk"] == revenue, name
        assert p["share"] == round(size / COMMENTS, 4)
        assert [t["period"] for t in p["trend"]] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
        assert [t["comments"] for t in p["trend"]] == quarters, name
        assert [t["all_comments"] for t in p["trend"]] == QUARTER_TOTALS
        assert p["trend_slope"] == SLOPES[name], name
        expected_direction = "growing" if SLOPES[name] >= 1 else "shrinking"
        assert p["trend_direction"] == expected_direction
        assert 1 <= len(p["quotes"]) <= 5 and p["label"] and p["top_terms"]
        for quote in p["quotes"]:
            assert quote["response_id"] in corpus[name]
    ranked = api.get("/api/v1/themes").json
    assert ranked["run"]["id"] == run["id"] and ranked["sort"] == "impact"
    assert [p["id"] for p in ranked["items"]] == [points[n]["id"] for n in RANKED]
    assert [p["rank"] for p in ranked["items"]] == [1, 2, 3, 4, 5]
    one = api.get(f"/api/v1/themes/{points['billing']['id']}").json
    assert one == points["billing"]


def test_sorts_and_theme_ids_on_responses(app, api, corpus):
    run = fit(app, api, until=UNTIL, n_themes=5)
    points = themes_by_name(api, corpus, run["id"])

    def order(sort):
        items = api.get(f"/api/v1/themes?sort={sort}").json["items"]
        names = {p["id"]: n for n, p in points.items()}
        return [names[p["id"]] for p in items]

    assert order("impact") == RANKED
    assert order("size") == ["billing", "slow", "login", "delivery", "support"]
    assert order("revenue") == ["billing", "slow", "login", "delivery", "support"]
    assert order("trend") == ["delivery", "billing", "support", "login", "slow"]
    assert api.get("/api/v1/themes?sort=loudest").status_code == 422
    # Every response carries its theme; promoters (not clustered) carry null.
    items = api.get("/api/v1/responses?limit=100").json["items"]
    theme_of = {i["id"]: i["theme_id"] for i in items}
    for name in ("billing", "slow", "login", "delivery"):
        assert {theme_of[i] for i in corpus[name]} == {points[name]["id"]}
    assert {theme_of[i] for i in corpus[""]} == {None}


def test_no_run_yet_and_run_not_done(app, api, corpus):
    empty = api.get("/api/v1/themes").json
    assert empty == {"run": None, "sort": "impact", "items": []}
    run = queue(api)
    r = api.get(f"/api/v1/themes?run_id={run['id']}")
    assert r.status_code == 409 and r.json["error"]["details"]["status"] == "queued"
    listed = api.get("/api/v1/themes/runs").json
    assert [x["id"] for x in listed["items"]] == [run["id"]]
    assert api.get("/api/v1/themes/runs?status=done").json["items"] == []


def test_other_projects_are_invisible(app, api, other_api, corpus):
    other_survey = other_api.post("/api/v1/surveys", json={"name": "Theirs"}).json
    r = api.post("/api/v1/themes/runs", json={"survey_id": other_survey["id"]})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    run = fit(app, api, until=UNTIL, n_themes=5)
    point = api.get("/api/v1/themes").json["items"][0]
    assert other_api.get(f"/api/v1/themes/runs/{run['id']}").status_code == 404
    assert other_api.get(f"/api/v1/themes/{point['id']}").status_code == 404
    assert other_api.get(f"/api/v1/themes/{point['id']}/responses").status_code == 404
    assert other_api.get(f"/api/v1/themes?run_id={run['id']}").status_code == 404
    assert other_api.get("/api/v1/themes").json["items"] == []
    assert api.get("/api/v1/themes/999999").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"segments": ["angry"]}, "segments"),
        ({"segments": []}, "segments"),
        ({"n_themes": 1}, "n_themes"),
        ({"n_themes": "5"}, "n_themes"),
        ({"since": "2025-06-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"revenue_property": ""}, "revenue_property"),
    ],
)
def test_invalid_parameters(api, body, field):
    r = api.post("/api/v1/themes/runs", json=body)
    assert r.status_code == 422
    assert field in r.json["error"]["details"]["json"]


def test_bad_revenue_property_name_is_refused(api):
    r = api.post("/api/v1/themes/runs", json={"revenue_property": 'm"rr'})
    assert r.status_code == 422 and "revenue_property" in r.json["error"]["details"]


def test_failed_run_reports_why(app, api):
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json
    for n, text in enumerate(["slow app", "too expensive", "login broken"]):
        body = {"survey_id": survey["id"], "person": {"external_id": f"u{n}"}, "score": 3}
        api.post("/api/v1/responses", json={**body, "comment": text})
    run = fit(app, api, n_themes=10)
    assert run["status"] == "failed"
    assert "n_themes=10" in run["message"] and "3 comments" in run["message"]
    assert run["finished_at"] and api.get("/api/v1/themes").json["items"] == []
    # The worker carries on: the next run is fitted normally.
    assert fit(app, api, n_themes=2)["status"] == "done"


@pytest.mark.parametrize("count", [0, 1, 2])
def test_zero_one_two_comments_give_a_clear_result(app, api, count):
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json
    texts = ["The checkout page keeps crashing", "Support never answered my ticket"]
    for n in range(count):
        body = {"survey_id": survey["id"], "person": {"external_id": f"u{n}"}, "score": 2}
        api.post("/api/v1/responses", json={**body, "comment": texts[n]})
    run = fit(app, api)
    assert run["status"] == "done", run["message"]
    assert run["counts"]["comments"] == count
    items = api.get("/api/v1/themes").json["items"]
    assert sum(p["size"] for p in items) + run["counts"]["unassigned"] == count
    if count == 0:
        assert items == [] and "no comments" in run["message"]


def test_new_responses_are_assigned_by_the_worker(app, api, corpus):
    run = fit(app, api, n_themes=5)
    points = themes_by_name(api, corpus, run["id"])
    survey_id = corpus["_survey"][0]
    body = {
        "survey_id": survey_id,
        "person": {"external_id": "late"},
        "score": 1,
        "comment": "Charged twice, refund the double charge on my card",
    }
    late = api.post("/api/v1/responses", json=body).json
    promoter = api.post(
        "/api/v1/responses",
        json={**body, "person": {"external_id": "fan"}, "score": 10, "comment": "Love it"},
    ).json
    feedback = add_feedback(app, api.keys.id, "w1", "客服态度很差，一直不回复消息")
    assert late["theme_id"] is None  # not clustered yet: the request does no ML
    done = run_once(app)
    assert done["theme_assign"] == 2  # the promoter is outside the run's segments
    assert api.get(f"/api/v1/responses/{late['id']}").json["theme_id"] == points["billing"]["id"]
    assert api.get(f"/api/v1/responses/{feedback}").json["theme_id"] == points["support"]["id"]
    assert api.get(f"/api/v1/responses/{promoter['id']}").json["theme_id"] is None
    after = api.get(f"/api/v1/themes/runs/{run['id']}").json
    assert after["counts"]["assigned_after_run"] == 2
    assert run_once(app)["theme_assign"] == 0


def test_a_run_of_an_earlier_model_version_assigns_nothing_and_fails_no_pass(app, api, corpus):
    run = fit(app, api, n_themes=5)
    with app.app_context():
        db().execute(
            update(ThemeRun).where(ThemeRun.id == run["id"]).values(model_version="themes-0")
        )
        db().commit()
    body = {"survey_id": corpus["_survey"][0], "person": {"external_id": "late"}, "score": 1}
    late = api.post("/api/v1/responses", json={**body, "comment": "Charged twice"}).json
    assert run_once(app)["theme_assign"] == 0  # not -1: the pass did not fail
    assert api.get(f"/api/v1/responses/{late['id']}").json["theme_id"] is None
    assert api.get(f"/api/v1/themes/runs/{run['id']}").json["model_version"] == "themes-0"
