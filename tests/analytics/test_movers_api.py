"""GET /api/v1/movement/people: the movers themselves, filtered and cursor-paginated."""

from tests.analytics.helpers import exclude
from tests.answers import answer

Q1 = "2026-02-01T12:00:00Z"
Q2 = "2026-05-01T12:00:00Z"


def movers(api, survey_id, query=""):
    r = api.get(f"/api/v1/movement/people?survey_id={survey_id}&from=2026-Q1&to=2026-Q2&{query}")
    assert r.status_code == 200, r.json
    return r.json


def build(api, survey_id):
    answer(api, survey_id, "a", 10, Q1, comment="Love it")
    answer(api, survey_id, "a", 9, "2026-04-01T00:00:00Z", comment="early Q2")
    answer(api, survey_id, "a", 2, Q2, comment="Support never answers <b>")  # latest in Q2
    answer(api, survey_id, "b", 9, Q1)
    answer(api, survey_id, "b", 0, Q2)
    answer(api, survey_id, "c", 9, Q1)
    answer(api, survey_id, "c", 10, Q2)
    answer(api, survey_id, "d", 7, Q1)
    answer(api, survey_id, "e", 4, Q2)
    exclude(api, answer(api, survey_id, "f", 10, Q1))
    answer(api, survey_id, "f", 0, Q2)
    gone = answer(api, survey_id, "g", 10, Q1)
    answer(api, survey_id, "g", 0, Q2)
    assert api.delete(f"/api/v1/people/{gone['person_id']}").status_code == 204


def test_promoters_who_became_detractors_with_both_answers(api, survey_id):
    build(api, survey_id)
    page = movers(api, survey_id, "from_segment=promoter&to_segment=detractor")
    assert [m["person"]["external_id"] for m in page["items"]] == ["a", "b"]
    a = page["items"][0]
    assert (a["from_period"], a["to_period"], a["movement"]) == ("2026-Q1", "2026-Q2", "down")
    assert (a["from_segment"], a["to_segment"]) == ("promoter", "detractor")
    assert (a["from_response"]["score"], a["from_response"]["comment"]) == (10, "Love it")
    assert a["to_response"]["score"] == 2
    assert a["to_response"]["comment"] == "Support never answers <b>"
    assert a["from_response"]["created_at"] == "2026-02-01T12:00:00Z"
    assert a["to_response"]["created_at"] == "2026-05-01T12:00:00Z"
    assert page["next_cursor"] is None


def test_new_lapsed_and_kinds(api, survey_id):
    build(api, survey_id)
    new = movers(api, survey_id, "from_segment=none")["items"]
    assert [(m["person"]["external_id"], m["movement"]) for m in new] == [
        ("e", "new"),
        ("f", "new"),
    ]
    assert new[0]["from_response"] is None and new[0]["from_segment"] is None
    lapsed = movers(api, survey_id, "movement=lapsed")["items"]
    assert [(m["person"]["external_id"], m["to_segment"]) for m in lapsed] == [("d", None)]
    up = movers(api, survey_id, "movement=stayed")["items"]
    assert [m["person"]["external_id"] for m in up] == ["c"]
    everyone = movers(api, survey_id)["items"]
    assert [m["person"]["external_id"] for m in everyone] == ["a", "b", "c", "d", "e", "f"]


def test_cursor_pagination(api, survey_id):
    build(api, survey_id)
    seen, cursor = [], None
    while True:
        page = movers(api, survey_id, "limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [m["person"]["external_id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["a", "b", "c", "d", "e", "f"]
    r = movers(api, survey_id, "limit=2")
    assert r["next_cursor"]
    link = api.get(
        f"/api/v1/movement/people?survey_id={survey_id}&from=2026-Q1&to=2026-Q2&limit=2"
    ).headers["Link"]
    assert 'rel="next"' in link and "cursor=" in link


def test_bad_movers_queries(api, survey_id):
    base = f"/api/v1/movement/people?survey_id={survey_id}"
    for query in (
        "&from_segment=fan",
        "&to_segment=",
        "&movement=sideways",
        "&cursor=not-a-cursor",
        "&limit=0",
        "&from=Q1-2026",
        "&to=2026-Q1&from=2026-Q3",
    ):
        r = api.get(base + query)
        assert r.status_code == 422, (query, r.json)
    assert api.get("/api/v1/movement/people").status_code == 422
