"""GET /api/v1/metrics/movement against hand-built cases with known answers."""

from datetime import datetime

from tests.analytics.helpers import cells, exclude, movement
from tests.answers import answer

Q1 = "2026-02-01T12:00:00Z"
Q1_LATE = "2026-03-01T12:00:00Z"
Q2 = "2026-05-01T12:00:00Z"
Q2_LATE = "2026-06-01T12:00:00Z"
Q3 = "2026-08-01T12:00:00Z"


def test_matrix_latest_answer_excluded_deleted_new_and_lapsed(api, survey_id):
    answer(api, survey_id, "a", 3, Q1)
    answer(api, survey_id, "a", 10, Q1_LATE)  # latest in Q1 counts: promoter
    answer(api, survey_id, "a", 2, Q2)  # promoter -> detractor
    answer(api, survey_id, "b", 9, Q1)
    answer(api, survey_id, "b", 10, Q2)
    exclude(api, answer(api, survey_id, "b", 1, Q2_LATE))  # excluded: b stays a promoter
    answer(api, survey_id, "c", 7, Q1)
    answer(api, survey_id, "c", 9, Q2)  # passive -> promoter
    answer(api, survey_id, "d", 0, Q1)
    answer(api, survey_id, "d", 8, Q2)  # detractor -> passive
    answer(api, survey_id, "e", 5, Q1)  # lapsed detractor
    answer(api, survey_id, "f", 10, Q2)  # new promoter
    answer(api, survey_id, "g", 8, Q1)
    answer(api, survey_id, "g", 8, Q2)  # passive stayed
    exclude(api, answer(api, survey_id, "h", 10, Q1))  # only answer in Q1 excluded
    answer(api, survey_id, "h", 6, Q2)  # so h is a new detractor
    gone = answer(api, survey_id, "i", 9, Q1)
    answer(api, survey_id, "i", 0, Q2)
    assert api.delete(f"/api/v1/people/{gone['person_id']}").status_code == 204

    m = movement(api, survey_id, "from=2026-Q1&to=2026-Q2")
    assert (m["from"]["key"], m["to"]["key"], m["period"]) == ("2026-Q1", "2026-Q2", "quarter")
    assert m["from"]["start"] == "2026-01-01T00:00:00Z" and m["to"]["end"] == "2026-07-01T00:00:00Z"
    assert cells(m) == {
        ("promoter", "promoter"): 1,
        ("promoter", "detractor"): 1,
        ("passive", "promoter"): 1,
        ("passive", "passive"): 1,
        ("detractor", "passive"): 1,
    }
    assert m["matrix"]["promoter"]["detractor"]["pct"] == 50.0
    assert m["matrix"]["detractor"]["passive"]["pct"] == 100.0
    assert m["matrix"]["detractor"]["detractor"] == {"count": 0, "pct": 0.0}
    assert m["new"] == {"promoter": 1, "passive": 0, "detractor": 1, "total": 2}
    assert m["lapsed"] == {"promoter": 0, "passive": 0, "detractor": 1, "total": 1}
    assert m["totals"] == {
        "from_respondents": 6,
        "to_respondents": 7,
        "repeat": 5,
        "stayed": 2,
        "moved": 3,
        "moved_up": 2,
        "moved_down": 1,
        "new": 2,
        "lapsed": 1,
    }
    assert (m["stayed_pct"], m["moved_up_pct"], m["moved_down_pct"]) == (40.0, 40.0, 20.0)
    # Repeat people: A = P, P, Pa, D, Pa (NPS 20); B = D, P, P, Pa, Pa (NPS 20).
    # d = -2, 0, 1, 1, 0: mean 0, s^2 = 6/4 = 1.5, se = sqrt(1.5/5) = 0.547723,
    # t(0.975, 4) = 2.776445, margin = 100 * 2.776445 * 0.547723 = 152.07.
    assert m["repeat_nps"] == {
        "n": 5,
        "nps_from": 20.0,
        "nps_to": 20.0,
        "change": 0.0,
        "margin_of_error": 152.07,
        "ci_low": -152.07,
        "ci_high": 152.07,
        "significant": False,
        "low_sample": True,
    }
    assert m["weighted"] is None and "series" not in m


def test_paired_interval_by_hand(api, survey_id):
    # 4 detractor -> promoter (d = +2), 3 promoter stayed (0), 2 passive -> promoter (+1),
    # 1 promoter -> detractor (-2): n = 10, sum d = 8, sum d^2 = 22, mean 0.8 (change +80),
    # s^2 = (22 - 10 * 0.64) / 9 = 1.733333, se = sqrt(s^2 / 10) = 0.416333,
    # margin = 100 * 2.262157 * 0.416333 = 94.18, CI = [-14.18, 174.18].
    pairs = [(0, 10)] * 4 + [(9, 9)] * 3 + [(7, 9)] * 2 + [(10, 0)]
    for i, (a, b) in enumerate(pairs):
        answer(api, survey_id, f"p{i}", a, Q1)
        answer(api, survey_id, f"p{i}", b, Q2)
    r = movement(api, survey_id, "from=2026-Q1&to=2026-Q2")["repeat_nps"]
    assert (r["n"], r["nps_from"], r["nps_to"], r["change"]) == (10, 0.0, 80.0, 80.0)
    assert (r["margin_of_error"], r["ci_low"], r["ci_high"]) == (94.18, -14.18, 174.18)
    assert r["significant"] is False


def test_significant_paired_change(api, survey_id):
    # 15 detractor -> passive (+1), 5 passive stayed: mean 0.75, s^2 = (15 - 11.25) / 19,
    # se = 0.099340, margin = 100 * 2.093024 * 0.099340 = 20.79: CI [54.21, 95.79].
    for i in range(20):
        answer(api, survey_id, f"p{i}", 3 if i < 15 else 7, Q1)
        answer(api, survey_id, f"p{i}", 8, Q2)
    r = movement(api, survey_id, "from=2026-Q1&to=2026-Q2")["repeat_nps"]
    assert (r["change"], r["ci_low"], r["ci_high"], r["significant"]) == (
        75.0,
        54.21,
        95.79,
        True,
    )


def test_quarter_boundaries_in_project_time_zone(api, survey_id):
    api.patch("/api/v1/project", json={"time_zone": "America/New_York"})
    # Q2 starts 2026-04-01 00:00 EDT = 04:00 UTC; Q1 at 2026-01-01 00:00 EST = 05:00 UTC;
    # Q3 at 2026-07-01 04:00 UTC.
    answer(api, survey_id, "p", 9, "2026-04-01T03:59:59Z")  # Mar 31 local: Q1
    answer(api, survey_id, "p", 0, "2026-04-01T04:00:00Z")  # exactly Q2
    answer(api, survey_id, "q", 0, "2026-01-01T04:59:59Z")  # Dec 31 local: 2025-Q4
    answer(api, survey_id, "q", 8, "2026-01-01T05:00:00Z")  # exactly Q1
    answer(api, survey_id, "q", 10, "2026-07-01T03:59:59Z")  # last instant of Q2
    answer(api, survey_id, "r", 10, Q1)
    answer(api, survey_id, "r", 0, "2026-07-01T04:00:00Z")  # exactly Q3

    m = movement(api, survey_id, "from=2026-Q1&to=2026-Q2")
    assert m["time_zone"] == "America/New_York"
    assert m["from"]["start"] == "2026-01-01T05:00:00Z"
    assert m["to"]["start"] == "2026-04-01T04:00:00Z"
    assert cells(m) == {("promoter", "detractor"): 1, ("passive", "promoter"): 1}
    assert m["lapsed"]["promoter"] == 1 and m["new"]["total"] == 0

    m = movement(api, survey_id, "from=2026-Q2")  # to defaults to the next quarter
    assert m["to"]["key"] == "2026-Q3" and cells(m) == {}
    assert m["lapsed"] == {"promoter": 1, "passive": 0, "detractor": 1, "total": 2}
    assert m["new"] == {"promoter": 0, "passive": 0, "detractor": 1, "total": 1}

    m = movement(api, survey_id, "to=2026-Q1")  # from defaults to the quarter before
    assert m["from"]["key"] == "2025-Q4"
    assert cells(m) == {("detractor", "passive"): 1}
    assert m["new"]["promoter"] == 2  # p and r


def test_skipping_a_quarter_lapses_then_returns_as_new(api, survey_id):
    answer(api, survey_id, "s", 9, Q1)
    answer(api, survey_id, "s", 6, Q3)
    answer(api, survey_id, "t", 8, Q1)
    answer(api, survey_id, "t", 8, Q2)
    answer(api, survey_id, "t", 10, Q3)

    first = movement(api, survey_id, "from=2026-Q1&to=2026-Q2")
    assert first["lapsed"]["promoter"] == 1 and cells(first) == {("passive", "passive"): 1}
    second = movement(api, survey_id, "from=2026-Q2&to=2026-Q3")
    assert second["new"]["detractor"] == 1 and cells(second) == {("passive", "promoter"): 1}
    # Non-adjacent periods compare directly: s went promoter -> detractor.
    skip = movement(api, survey_id, "from=2026-Q1&to=2026-Q3")
    assert cells(skip) == {("promoter", "detractor"): 1, ("passive", "promoter"): 1}

    span = "since=2026-01-01T00:00:00Z&until=2026-10-01T00:00:00Z"
    s = movement(api, survey_id, f"series=true&{span}")
    assert [(p["from"]["key"], p["to"]["key"]) for p in s["series"]] == [
        ("2026-Q1", "2026-Q2"),
        ("2026-Q2", "2026-Q3"),
    ]
    assert s["series"][0]["lapsed"] == first["lapsed"]
    assert s["series"][1]["new"] == second["new"]
    assert s["series"][1]["repeat_nps"] == second["repeat_nps"]
    assert "matrix" not in s


def test_month_periods(api, survey_id):
    answer(api, survey_id, "a", 9, "2026-03-31T23:59:59Z")
    answer(api, survey_id, "a", 6, "2026-04-01T00:00:00Z")
    m = movement(api, survey_id, "period=month&from=2026-03")
    assert (m["period"], m["from"]["key"], m["to"]["key"]) == ("month", "2026-03", "2026-04")
    assert cells(m) == {("promoter", "detractor"): 1}
    assert m["repeat_nps"]["change"] == -200.0


def test_weighted_matrix_and_revenue_at_risk(api, survey_id):
    def pair(who, a, b, props_a, props_b):
        answer(api, survey_id, who, a, Q1, properties=props_a)
        answer(api, survey_id, who, b, Q2, properties=props_b)

    pair("a", 10, 2, {"mrr": 1}, {"mrr": 100})  # down to detractor: B's weight, 100
    pair("b", 9, 9, {"mrr": 50}, {"mrr": 50})  # stayed promoter
    pair("c", 7, 9, {"mrr": 30}, {})  # up; no weight in B, so A's: 30
    pair("d", 3, 3, {"plan": "pro"}, {"plan": "pro"})  # no weight: counted, not weighted
    pair("g", 9, 7, {"mrr": "lots"}, {"mrr": "lots"})  # not a number: not weighted
    pair("h", 10, 8, {"mrr": 10}, {"mrr": 10})  # down to passive
    answer(api, survey_id, "e", 9, Q1, properties={"mrr": 20})  # lapsed promoter
    answer(api, survey_id, "f", 1, Q2, properties={"mrr": 40})  # new detractor

    m = movement(api, survey_id, "from=2026-Q1&to=2026-Q2&weight=property:mrr")
    assert m["weight"] == "property:mrr"
    assert m["totals"]["repeat"] == 6 and m["totals"]["moved_down"] == 3
    w = m["weighted"]
    assert cells(w, "weight") == {
        ("promoter", "promoter"): 50.0,
        ("promoter", "passive"): 10.0,
        ("promoter", "detractor"): 100.0,
        ("passive", "promoter"): 30.0,
    }
    row = w["matrix"]["promoter"]
    assert (row["promoter"]["pct"], row["passive"]["pct"], row["detractor"]["pct"]) == (
        31.25,
        6.25,
        62.5,
    )
    assert w["matrix"]["detractor"]["detractor"] == {"weight": 0.0, "pct": None}
    assert w["new"] == {"promoter": 0.0, "passive": 0.0, "detractor": 40.0, "total": 40.0}
    assert w["lapsed"] == {"promoter": 20.0, "passive": 0.0, "detractor": 0.0, "total": 20.0}
    assert w["totals"] == {
        "from_respondents": 210.0,
        "to_respondents": 230.0,
        "repeat": 190.0,
        "stayed": 50.0,
        "moved": 140.0,
        "moved_up": 30.0,
        "moved_down": 110.0,
        "new": 40.0,
        "lapsed": 20.0,
    }
    assert (w["stayed_pct"], w["moved_up_pct"], w["moved_down_pct"]) == (26.32, 15.79, 57.89)
    # Moved down: a 100 + h 10; detractors in B: a 100 + f 40; union: 150.
    assert w["revenue_at_risk"] == {"moved_down": 110.0, "detractors": 140.0, "total": 150.0}


def test_empty_survey(api, survey_id):
    m = movement(api, survey_id, "from=2026-Q1&to=2026-Q2")
    assert cells(m) == {} and m["matrix"]["promoter"]["promoter"] == {"count": 0, "pct": None}
    assert m["totals"]["repeat"] == 0 and m["moved_up_pct"] is None
    assert m["repeat_nps"]["n"] == 0 and m["repeat_nps"]["change"] is None
    assert m["repeat_nps"]["significant"] is False


def test_defaults_are_the_last_two_complete_quarters(app, api, project, survey_id):
    from service.db import db
    from surveys.analytics.movement import MovementQuery
    from surveys.analytics.movement import movement as domain_movement
    from surveys.clock import utcnow
    from surveys.models import Project
    from surveys.periods import last_complete_periods

    answer(api, survey_id, "a", 9, "2025-11-01T00:00:00Z")
    answer(api, survey_id, "a", 0, "2026-02-01T00:00:00Z")
    answer(api, survey_id, "a", 10, "2026-05-01T00:00:00Z")  # current quarter at `now`
    with app.app_context():
        p = db().get(Project, project.id)
        m = domain_movement(db(), p, MovementQuery(survey_id), datetime(2026, 5, 10))
        assert (m["from"]["key"], m["to"]["key"]) == ("2025-Q4", "2026-Q1")
        assert cells(m) == {("promoter", "detractor"): 1}
        m = domain_movement(
            db(), p, MovementQuery(survey_id, unit="month"), datetime(2026, 3, 1, 0, 0, 1)
        )
        assert (m["from"]["key"], m["to"]["key"]) == ("2026-01", "2026-02")
        s = domain_movement(db(), p, MovementQuery(survey_id, series=True), datetime(2026, 5, 10))
        assert [x["to"]["key"] for x in s["series"]] == ["2025-Q3", "2025-Q4", "2026-Q1"]
    # Through HTTP the clock is the real one.
    expected = [x.label for x in last_complete_periods(utcnow(), "quarter", "UTC", 2)]
    m = movement(api, survey_id)
    assert [m["from"]["key"], m["to"]["key"]] == expected


def test_bad_queries_are_422(api, survey_id):
    base = f"/api/v1/metrics/movement?survey_id={survey_id}"
    for query in (
        "&from=2026-Q5",
        "&from=2026-13&period=month",
        "&from=2026-03",  # a month label for a quarter
        "&period=week",
        "&from=2026-Q2&to=2026-Q1",
        "&from=2026-Q2&to=2026-Q2",
        "&weight=mrr",
        "&weight=property:",
        "&series=maybe",
        "&series=true&since=2026-05-01T00:00:00Z&until=2026-01-01T00:00:00Z",
        "&series=true&since=2000-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
    ):
        r = api.get(base + query)
        assert r.status_code == 422, (query, r.json)
        assert r.json["error"]["code"] == "invalid"
    assert api.get("/api/v1/metrics/movement").status_code == 422  # survey_id required
    text_weight = api.get(f"{base}&weight=property:plan")  # a text property weighs nothing
    assert text_weight.status_code == 200, text_weight.json


def test_other_projects_survey_is_404(api, other_api, survey_id):
    answer(api, survey_id, "a", 9, Q1)
    r = other_api.get(f"/api/v1/metrics/movement?survey_id={survey_id}&from=2026-Q1")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = other_api.get(f"/api/v1/movement/people?survey_id={survey_id}&from=2026-Q1")
    assert r.status_code == 404
    assert api.get("/api/v1/metrics/movement?survey_id=999999").status_code == 404


def test_per_response_movement_agrees_when_people_answer_once_a_quarter(api, survey_id):
    answer(api, survey_id, "a", 10, Q1)
    second = answer(api, survey_id, "a", 3, Q2)
    one = api.get(f"/api/v1/responses/{second['id']}").json
    assert (one["previous_segment"], one["movement"]) == ("promoter", "down")
    m = movement(api, survey_id, "from=2026-Q1&to=2026-Q2")
    assert cells(m) == {("promoter", "detractor"): 1}
