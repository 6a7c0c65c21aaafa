"""Theme runs in the domain: pure rules (impact, trend), parameters, claiming with several
workers, determinism and awkward comments."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from service.db import db
from service.worker.loop import run_once
from surveys.errors import Invalid
from surveys.models import ThemeAssignment, ThemeRun
from surveys.themes import runs
from surveys.themes.impact import nps_impact, trend_direction, trend_periods
from tests.themes.corpus import ROWS, load

NOW = datetime(2026, 3, 10, 12, 0)


def test_nps_impact_is_detractors_over_respondents():
    assert nps_impact(3, 25) == 12.0
    assert nps_impact(1, 3) == 33.33
    assert nps_impact(0, 10) == 0.0
    assert nps_impact(0, 0) == 0.0


@pytest.mark.parametrize(
    ("shares", "expected"),
    [
        ([0.1, 0.2, 0.3, 0.4], ("growing", 10.0)),
        ([0.4, 0.3, 0.2, 0.1], ("shrinking", -10.0)),
        ([0.2, 0.205, 0.2, 0.205], ("stable", 0.1)),
        ([None, 0.1, None, 0.3], ("growing", 10.0)),
        ([None, None, None, 0.5], (None, None)),
        ([], (None, None)),
    ],
)
def test_trend_direction(shares, expected):
    assert trend_direction(shares) == expected


def test_trend_quarters_follow_the_project_time_zone():
    params = runs.make_params(until=datetime(2026, 1, 1))
    labels = [p.label for p in trend_periods(params, NOW, "UTC")]
    assert labels == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    tokyo = trend_periods(runs.make_params(), NOW, "Asia/Tokyo")
    assert [p.label for p in tokyo] == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    # Tokyo's 2026-Q1 starts at 15:00 UTC on the last day of 2025.
    assert tokyo[-1].start == datetime(2025, 12, 31, 15, 0)


def test_make_params_checks_and_defaults():
    p = runs.make_params()
    assert p.segments == ("detractor", "passive", "feedback") and p.revenue_property == "mrr"
    assert runs.make_params(segments=["passive", "passive"]).segments == ("passive",)
    for bad in (
        {"segments": ["angry"]},
        {"segments": []},
        {"n_themes": 1},
        {"n_themes": 501},
        {"since": NOW, "until": NOW},
        {"revenue_property": " "},
        {"revenue_property": "a\\b"},
    ):
        with pytest.raises(Invalid):
            runs.make_params(**bad)
    again = runs.RunParams.from_json(runs.make_params(since=NOW, n_themes=4).to_json())
    assert again.since == NOW and again.n_themes == 4


def _queue(app, project_id) -> int:
    with app.app_context():
        run = runs.queue_run(db(), project_id, runs.make_params(), now=NOW)
        db().commit()
        return run.id


def test_two_workers_do_not_take_one_run(app, project):
    run_id = _queue(app, project.id)
    barrier = threading.Barrier(2)
    won: list[int | None] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        with app.app_context():
            barrier.wait()
            claimed = runs.claim_run(db(), name, now=NOW)
            db().commit()
            with lock:
                won.append(claimed.id if claimed else None)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won, key=str) == sorted([run_id, None], key=str)
    with app.app_context():
        run = db().get(ThemeRun, run_id)
        assert run.status == "running" and run.claimed_by in {"w0", "w1"}
        # Claimed and committed: a later claim, even aimed at it, gets nothing.
        assert runs.claim_run(db(), "w2", now=NOW, run_id=run_id) is None


def test_a_dead_workers_run_is_taken_over_after_its_lease(app, project):
    run_id = _queue(app, project.id)
    with app.app_context():
        assert runs.claim_run(db(), "dead", now=NOW).id == run_id
        db().commit()
        assert runs.claim_run(db(), "w2", now=NOW + timedelta(minutes=29)) is None
        later = NOW + runs.LEASE + timedelta(seconds=1)
        taken = runs.claim_run(db(), "w2", now=later)
        assert taken.id == run_id and taken.claimed_by == "w2"


def _partition(app, run_id) -> set[frozenset[int]]:
    with app.app_context():
        rows = db().execute(
            select(ThemeAssignment.friction_point_id, ThemeAssignment.response_id).where(
                ThemeAssignment.run_id == run_id
            )
        )
        groups: dict[int | None, set[int]] = {}
        for point, response in rows:
            groups.setdefault(point, set()).add(response)
        return {frozenset(g) for g in groups.values()}


def test_same_data_same_seed_same_themes(app, api):
    load(api, app)
    first = api.post("/api/v1/themes/runs", json={}).json["id"]
    second = api.post("/api/v1/themes/runs", json={}).json["id"]
    assert run_once(app)["theme_runs"] == 2
    labels = [
        [p["label"] for p in api.get(f"/api/v1/themes?run_id={r}").json["items"]]
        for r in (first, second)
    ]
    assert labels[0] == labels[1] and labels[0]
    assert _partition(app, first) == _partition(app, second)


def test_long_and_emoji_only_comments(app, api):
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json
    texts = [
        "😡😡😡",
        "👎",
        "🙄🙄",
        ("The export is broken and times out. " * 140)[:5000],
        *[row.text for row in ROWS if row.theme in {"billing", "slow"}],
    ]
    for n, text in enumerate(texts):
        body = {"survey_id": survey["id"], "person": {"external_id": f"u{n}"}, "score": 4}
        assert api.post("/api/v1/responses", json={**body, "comment": text}).status_code == 201
    run = api.post("/api/v1/themes/runs", json={}).json
    run_once(app)
    run = api.get(f"/api/v1/themes/runs/{run['id']}").json
    assert run["status"] == "done", run["message"]
    assert run["counts"]["comments"] == len(texts)
    assert run["counts"]["assigned"] + run["counts"]["unassigned"] == len(texts)
    for point in api.get("/api/v1/themes").json["items"]:
        assert all(len(q["text"]) <= 500 for q in point["quotes"])
