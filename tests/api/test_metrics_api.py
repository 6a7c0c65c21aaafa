"""NPS metrics through the API against hand-computed values."""

import pytest

from tests.answers import answer


@pytest.fixture
def survey(api):
    return api.post("/api/v1/surveys", json={"name": "NPS"}).json


def nps(api, query=""):
    r = api.get(f"/api/v1/metrics/nps?{query}")
    assert r.status_code == 200, r.json
    return r.json


def test_empty_project(api, survey):
    m = nps(api, "group_by=quarter")
    assert m["overall"]["responses"] == 0
    assert m["overall"]["nps"] is None
    assert m["buckets"] == []


def test_overall_matches_hand_computation(api, survey):
    # 5 promoters, 3 passives, 2 detractors: NPS 30, margin 42.13 (see test_statistics)
    for i, s in enumerate([9, 10, 9, 10, 9, 7, 8, 7, 0, 6]):
        answer(api, survey["id"], f"p{i}", s, "2026-02-01T12:00:00Z")
    o = nps(api)["overall"]
    assert (o["responses"], o["promoters"], o["passives"], o["detractors"]) == (10, 5, 3, 2)
    assert (o["promoters_pct"], o["passives_pct"], o["detractors_pct"]) == (50.0, 30.0, 20.0)
    assert o["nps"] == 30.0 and o["margin_of_error"] == 42.13
    assert (o["ci_low"], o["ci_high"]) == (-19.05, 65.2)
    assert o["low_sample"] is True


def test_latest_answer_per_person_counts_once_and_excluded_skip(api, survey):
    answer(api, survey["id"], "a", 2, "2026-01-05T00:00:00Z")
    answer(api, survey["id"], "a", 10, "2026-02-05T00:00:00Z")  # latest in Q1: promoter
    answer(api, survey["id"], "b", 9, "2026-01-05T00:00:00Z")
    late = answer(api, survey["id"], "b", 1, "2026-03-05T00:00:00Z")
    api.patch(f"/api/v1/responses/{late['id']}", json={"excluded": True})  # b stays promoter
    o = nps(api)["overall"]
    assert (o["responses"], o["promoters"], o["nps"]) == (2, 2, 100.0)
    every = nps(api, "count=all")["overall"]
    assert (every["responses"], every["promoters"], every["detractors"]) == (3, 2, 1)


def test_quarters_cut_in_project_time_zone_with_change(api, survey):
    api.patch("/api/v1/project", json={"time_zone": "America/New_York"})
    # 2026-04-01 03:30 UTC is still March 31 in New York: Q1.
    answer(api, survey["id"], "a", 10, "2026-04-01T03:30:00Z")
    answer(api, survey["id"], "b", 0, "2026-01-01T04:59:00Z")  # Dec 31 local: 2025-Q4
    answer(api, survey["id"], "c", 9, "2026-04-01T04:00:00Z")  # exactly Q2 start in New York
    answer(api, survey["id"], "d", 9, "2026-04-02T00:00:00Z")
    m = nps(api, "group_by=quarter")
    assert m["time_zone"] == "America/New_York"
    keys = [(b["key"], b["responses"], b["nps"]) for b in m["buckets"]]
    assert keys == [("2025-Q4", 1, -100.0), ("2026-Q1", 1, 100.0), ("2026-Q2", 2, 100.0)]
    assert m["buckets"][0]["change"] is None
    assert m["buckets"][1]["change"]["change"] == 200.0
    assert m["buckets"][2]["start"] == "2026-04-01T04:00:00Z"
    # A person counts once per bucket but in each bucket they answered.
    answer(api, survey["id"], "a", 3, "2026-05-01T00:00:00Z")
    q2 = nps(api, "group_by=quarter")["buckets"][2]
    assert (q2["responses"], q2["detractors"]) == (3, 1)


def test_empty_period_between_is_listed(api, survey):
    answer(api, survey["id"], "a", 10, "2025-11-01T00:00:00Z")
    answer(api, survey["id"], "b", 0, "2026-05-01T00:00:00Z")
    m = nps(api, "group_by=quarter")
    assert [(b["key"], b["responses"]) for b in m["buckets"]] == [
        ("2025-Q4", 1),
        ("2026-Q1", 0),
        ("2026-Q2", 1),
    ]
    assert m["buckets"][1]["nps"] is None and m["buckets"][2]["change"] is None


def test_group_by_channel_locale_property_and_filters(api, survey):
    answer(
        api,
        survey["id"],
        "a",
        10,
        "2026-02-01T00:00:00Z",
        channel="email",
        locale="ru",
        properties={"plan": "pro"},
    )
    answer(api, survey["id"], "b", 0, "2026-02-01T00:00:00Z", properties={"plan": "free"})
    answer(api, survey["id"], "c", 8, "2026-02-01T00:00:00Z", properties={"plan": "pro"})
    by = lambda q: {b["key"]: b["nps"] for b in nps(api, q)["buckets"]}  # noqa: E731
    assert by("group_by=channel") == {"api": -50.0, "email": 100.0}
    assert by("group_by=property:plan") == {"free": -100.0, "pro": 50.0}
    assert by("group_by=locale")["ru"] == 100.0
    assert nps(api, "channel=email")["overall"]["responses"] == 1
    assert nps(api, "since=2026-03-01T00:00:00Z")["overall"]["responses"] == 0


def test_weighted_nps(api, survey):
    # mrr 100 promoter, 50 detractor, 0 passive: weighted NPS = (100 - 50) / 150 = 33.33
    answer(api, survey["id"], "a", 10, "2026-02-01T00:00:00Z", properties={"mrr": 100})
    answer(api, survey["id"], "b", 2, "2026-02-01T00:00:00Z", properties={"mrr": 50})
    answer(api, survey["id"], "c", 7, "2026-02-01T00:00:00Z", properties={"mrr": 0})
    answer(api, survey["id"], "d", 9, "2026-02-01T00:00:00Z", properties={})  # no weight: left out
    o = nps(api, "weight=property:mrr")["overall"]
    assert o["nps"] == 33.33
    assert o["weighted"]["total"] == 150.0
    assert o["weighted"]["effective_n"] == 1.8
    assert o["responses"] == 3


def test_weight_by_a_text_property_weighs_nothing(api, survey):
    # The same answer on SQLite and PostgreSQL: a value that is not a JSON number is no weight
    # (a plain cast would make "high" 0 on SQLite and fail on PostgreSQL).
    answer(api, survey["id"], "a", 10, "2026-02-01T00:00:00Z", properties={"mrr": 100})
    answer(api, survey["id"], "b", 2, "2026-02-01T00:00:00Z", properties={"mrr": "high"})
    answer(api, survey["id"], "c", 7, "2026-02-01T00:00:00Z", properties={"mrr": "50"})
    r = api.get("/api/v1/metrics/nps?weight=property:mrr")
    assert r.status_code == 200, r.json
    o = r.json["overall"]
    assert o["nps"] == 100.0 and o["responses"] == 1
    assert o["weighted"]["total"] == 100.0
    quoted = api.get('/api/v1/metrics/nps?weight=property:m"rr')
    assert quoted.status_code == 422 and "weight" in quoted.json["error"]["details"]


def test_bad_metric_queries(api, survey):
    assert api.get("/api/v1/metrics/nps?group_by=planet").status_code == 422
    assert api.get("/api/v1/metrics/nps?weight=mrr").status_code == 422
    assert api.get("/api/v1/metrics/nps?group_by=property:").status_code == 422
    assert api.get("/api/v1/metrics/nps?since=yesterday").status_code == 422


def test_other_project_data_not_counted(api, other_api, survey):
    answer(api, survey["id"], "a", 10, "2026-02-01T00:00:00Z")
    assert nps(other_api)["overall"]["responses"] == 0
    # Their survey is missing here, as on every other route that names a survey.
    r = other_api.get(f"/api/v1/metrics/nps?survey_id={survey['id']}")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
