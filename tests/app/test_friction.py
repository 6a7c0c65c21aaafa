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
