"""Theme edits: rename, hide and merge through the API, hand-computed figures after a merge,
answers assigned later follow a merge, and a later run takes the edits of matching themes."""

from __future__ import annotations

import pytest

from surveys.themes.edits import MATCH_THRESHOLD, jaccard
from tests.themes.corpus import COMMENTS, EXPECTED, RESPONDENTS, UNTIL, load
from tests.themes.test_themes_api import fit, themes_by_name


@pytest.fixture
def corpus(app, api):
    return load(api, app)


def test_jaccard_by_hand():
    assert jaccard(["a", "b", "c"], ["b", "c", "d"]) == 2 / 4
    assert jaccard([], []) == 0.0
    # Only the first ten terms of each count.
    assert jaccard([str(i) for i in range(20)], [str(i) for i in range(10, 20)]) == 0.0
    assert MATCH_THRESHOLD == 0.4


def test_rename_hide_and_merge_with_hand_computed_figures(app, api, corpus):
    run = fit(app, api, until=UNTIL, n_themes=5)
    points = themes_by_name(api, corpus, run["id"])
    billing, slow, login, support = (
        points[n]["id"] for n in ("billing", "slow", "login", "support")
    )
    r = api.patch(f"/api/v1/themes/{login}", json={"label": "  Sign-in   trouble "})
    assert r.status_code == 200 and r.json["label"] == "Sign-in trouble"
    assert api.patch(f"/api/v1/themes/{login}", json={"label": ""}).status_code == 422
    r = api.patch(f"/api/v1/themes/{support}", json={"hidden": True})
    assert r.status_code == 200 and r.json["hidden"] is True
    listed = [p["id"] for p in api.get("/api/v1/themes").json["items"]]
    assert support not in listed and len(listed) == 4
    assert support in [p["id"] for p in api.get("/api/v1/themes?hidden=true").json["items"]]
    r = api.post(f"/api/v1/themes/{billing}/merge", json={"theme_id": slow})
    assert r.status_code == 200, r.json
    merged = r.json
    # billing (6: 3 detractors, 2 passives, mean 4.17, revenue 175) + slow (5: 4, 1, 4.8, 30)
    # = 11 comments, 7 detractors, 3 passives, mean (25 + 24) / 11 = 4.45, revenue 205,
    # share 11 / 23; impact counts the people counted as detractors in the NPS: 3 of billing's
    # and 3 of slow's (impacts 12 + 12; different people), 100 * 6 / 25 = 24.0.
    b, s = EXPECTED["billing"], EXPECTED["slow"]
    assert merged["size"] == b[0] + s[0] == 11
    assert (merged["detractors"], merged["passives"]) == (7, 3)
    assert merged["average_score"] == 4.45
    assert merged["revenue_at_risk"] == 205.0
    assert merged["nps_impact"] == b[4] + s[4] == round(100 * 6 / RESPONDENTS, 2) == 24.0
    assert merged["share"] == round(11 / COMMENTS, 4)
    assert merged["rank"] == 1
    gone = api.get(f"/api/v1/themes/{slow}").json
    assert gone["hidden"] is True and gone["merged_into_id"] == billing and gone["size"] == 0
    # The merged theme's responses now carry the kept theme.
    items = api.get(f"/api/v1/responses?theme_id={billing}&limit=100").json["items"]
    assert {i["id"] for i in items} == set(corpus["billing"]) | set(corpus["slow"])
    # A merged-away theme takes no more edits or merges.
    assert api.patch(f"/api/v1/themes/{slow}", json={"label": "x"}).status_code == 409
    assert (
        api.post(f"/api/v1/themes/{billing}/merge", json={"theme_id": billing}).status_code == 422
    )
    assert api.post(f"/api/v1/themes/{billing}/merge", json={"theme_id": 999}).status_code == 404


def test_a_later_run_keeps_names_hides_and_merges_of_matching_themes(app, api, corpus):
    first = fit(app, api, until=UNTIL, n_themes=5)
    points = themes_by_name(api, corpus, first["id"])
    api.patch(f"/api/v1/themes/{points['login']['id']}", json={"label": "Sign-in trouble"})
    api.patch(f"/api/v1/themes/{points['support']['id']}", json={"hidden": True})
    api.post(
        f"/api/v1/themes/{points['billing']['id']}/merge", json={"theme_id": points["slow"]["id"]}
    )
    second = fit(app, api, until=UNTIL, n_themes=5)
    assert second["id"] != first["id"]
    listed = api.get("/api/v1/themes").json
    assert listed["run"]["id"] == second["id"]
    by_label = {p["label"]: p for p in listed["items"]}
    assert "Sign-in trouble" in by_label
    assert set(
        i["id"]
        for i in api.get(
            f"/api/v1/responses?theme_id={by_label['Sign-in trouble']['id']}&limit=100"
        ).json["items"]
    ) == set(corpus["login"])
    # Support is hidden again, slow merged into billing again: three themes listed.
    assert len(listed["items"]) == 3
    everything = api.get("/api/v1/themes?hidden=true").json["items"]
    merged = [p for p in everything if p["merged_into_id"] is not None]
    assert len(merged) == 1
    kept = next(p for p in everything if p["id"] == merged[0]["merged_into_id"])
    assert kept["size"] == 11 and kept["nps_impact"] == 24.0


def test_answers_assigned_after_a_merge_land_in_the_kept_theme(app, api, corpus):
    from service.worker.loop import run_once

    # No `until`: an answer arriving now is inside the run.
    run = fit(app, api, n_themes=5)
    points = themes_by_name(api, corpus, run["id"])
    billing, slow = points["billing"]["id"], points["slow"]["id"]
    assert api.post(f"/api/v1/themes/{billing}/merge", json={"theme_id": slow}).status_code == 200
    body = {
        "survey_id": corpus["_survey"][0],
        "person": {"external_id": "late"},
        "score": 3,
        "comment": "The app is very slow, pages take forever to load",
    }
    late = api.post("/api/v1/responses", json=body).json["id"]
    assert run_once(app)["theme_assign"] == 1
    assert api.get(f"/api/v1/responses/{late}").json["theme_id"] == billing
