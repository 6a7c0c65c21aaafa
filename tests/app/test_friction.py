"""The friction points page through the test client: the API's themes in the API's order with
their numbers, quotes and a link to their responses; other orders; no run yet; a bad order."""

from __future__ import annotations

import html

import pytest

from service.worker.loop import run_once
from tests.themes.corpus import UNTIL, load


@pytest.fixture
def fitted(app, api):
    load(api, app)
    r = api.post("/api/v1/themes/runs", json={"until": UNTIL, "n_themes": 5})
    assert r.status_code == 202, r.json
    assert run_once(app)["theme_runs"] == 1


def positions(page: str, points: list[dict]) -> list[int]:
    return [page.index(f"<h3>{html.escape(p['label'])}</h3>") for p in points]


@pytest.mark.parametrize("sort", ["impact", "revenue", "size", "trend"])
def test_friction_points_follow_the_api(team, viewer, api, fitted, sort):
    team.sign_in(viewer.email)
    r = team.get(f"/app/friction-points?sort={sort}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    points = api.get(f"/api/v1/themes?sort={sort}").json["items"]
    assert len(points) == 5
    found = positions(page, points)
    assert found == sorted(found), "the page lists the themes in the API's order"
    for point in points:
        assert f'href="/app/responses?theme={point["id"]}"' in page
        assert f'data-metric="nps_impact" data-value="{point["nps_impact"]}"' in page
        assert html.escape(point["quotes"][0]["text"]) in page
    assert page.count('<svg class="chart spark"') == 5
    assert 'method="post"' not in page.split('<main id="main"', 1)[1]


def test_no_run_yet_is_a_message(team, owner):
    team.sign_in(owner.email)
    r = team.get("/app/friction-points")
    assert r.status_code == 200
    assert "No friction points yet" in r.get_data(as_text=True)


def test_an_unknown_order_is_a_clear_422(team, owner):
    team.sign_in(owner.email)
    r = team.get("/app/friction-points?sort=colour")
    assert r.status_code == 422
    assert "That order is not known" in r.get_data(as_text=True)


def test_editors_rename_merge_and_hide_viewers_cannot(app, team, editor, viewer, api, fitted):
    from tests.app.conftest import TeamClient

    points = api.get("/api/v1/themes").json["items"]
    first, second, third = points[0]["id"], points[1]["id"], points[2]["id"]
    watcher = TeamClient(app.test_client())
    watcher.sign_in(viewer.email)
    watcher.get("/app/friction-points")
    assert watcher.post(f"/app/friction-points/{first}/label", {"label": "x"}).status_code == 403
    team.sign_in(editor.email)
    page = team.get("/app/friction-points").get_data(as_text=True)
    assert f'action="/app/friction-points/{first}/merge"' in page
    r = team.post(f"/app/friction-points/{first}/label", {"label": "Sign-in trouble"})
    assert r.status_code == 302
    assert "<h3>Sign-in trouble</h3>" in team.get("/app/friction-points").get_data(as_text=True)
    r = team.post(f"/app/friction-points/{first}/merge", {"theme_id": str(second)})
    assert r.status_code == 302
    assert team.post(f"/app/friction-points/{third}/hide", {}).status_code == 302
    page = team.get("/app/friction-points").get_data(as_text=True)
    assert "3 themes, ranked by NPS impact" in page
    merged = api.get(f"/api/v1/themes/{first}").json
    assert merged["size"] == points[0]["size"] + points[1]["size"]
    r = team.post(f"/app/friction-points/{first}/label", {"label": " "})
    assert r.status_code == 302
    assert api.get(f"/api/v1/themes/{first}").json["label"] == "Sign-in trouble"
