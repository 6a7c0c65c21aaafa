"""Recording responses: segments, person creation, idempotency, closed surveys, isolation."""

import pytest


@pytest.fixture
def survey(api):
    return api.post("/api/v1/surveys", json={"name": "NPS"}).json


def post(api, survey, score, person=None, headers=None, **extra):
    body = {"survey_id": survey["id"], "person": person or {"external_id": "u1"}, "score": score}
    return api.post("/api/v1/responses", json={**body, **extra}, headers=headers or {})


@pytest.mark.parametrize(
    ("score", "segment"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
    ],
)
def test_segment_in_answer(api, survey, score, segment):
    r = post(api, survey, score)
    assert r.status_code == 201
    assert r.json["segment"] == segment and r.json["channel"] == "api"


def test_person_created_and_properties_snapshot(api, survey):
    api.post("/api/v1/people", json={"external_id": "u1", "properties": {"plan": "pro"}})
    r = post(api, survey, 9, comment="Love it ❤️ 很好")
    assert r.json["properties"] == {"plan": "pro"}
    assert r.json["comment"] == "Love it ❤️ 很好"
    # The snapshot does not follow later changes of the person.
    api.post("/api/v1/people", json={"external_id": "u1", "properties": {"plan": "free"}})
    assert api.get(f"/api/v1/responses/{r.json['id']}").json["properties"] == {"plan": "pro"}
    new = post(api, survey, 3, person={"email": "new@example.com"})
    assert new.status_code == 201
    people = api.get("/api/v1/people?email=new@example.com").json["items"]
    assert len(people) == 1 and people[0]["id"] == new.json["person_id"]


def test_explicit_snapshot_and_import_date(api, survey):
    r = post(api, survey, 5, properties={"mrr": 10}, created_at="2025-02-03T10:00:00+02:00")
    assert r.json["properties"] == {"mrr": 10}
    assert r.json["created_at"] == "2025-02-03T08:00:00Z"


@pytest.mark.parametrize("bad", [11, -1, 7.5, "9", None, True])
def test_invalid_scores(api, survey, bad):
    r = post(api, survey, bad)
    assert r.status_code == 422
    assert "score" in r.json["error"]["details"]["json"]


def test_comment_limit(api, survey):
    assert post(api, survey, 5, comment="x" * 5000).status_code == 201
    r = post(api, survey, 5, comment="x" * 5001)
    assert r.status_code == 422 and "comment" in r.json["error"]["message"]


def test_idempotency_key(api, survey):
    headers = {"Idempotency-Key": "abc-123"}
    first = post(api, survey, 9, headers=headers)
    second = post(api, survey, 2, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert len(api.get("/api/v1/responses").json["items"]) == 1


def test_closed_survey_refuses_live_answers_but_accepts_history(api, survey):
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"active": False})
    r = post(api, survey, 9)
    assert r.status_code == 409 and r.json["error"]["code"] == "survey_closed"
    assert post(api, survey, 9, created_at="2025-01-01T00:00:00Z").status_code == 201


def test_unknown_and_foreign_survey(api, other_api, survey):
    assert post(api, {"id": 999999}, 9).status_code == 404
    r = post(other_api, survey, 9)
    assert r.status_code == 404
    assert other_api.get("/api/v1/people").json["items"] == []


def test_patch_excludes_and_edits(api, survey):
    rid = post(api, survey, 2, comment="bad").json["id"]
    r = api.patch(f"/api/v1/responses/{rid}", json={"excluded": True, "comment": "edited"})
    assert r.status_code == 200 and r.json["excluded"] is True and r.json["comment"] == "edited"
    assert api.get("/api/v1/metrics/nps").json["overall"]["responses"] == 0


def test_list_filters(api, survey):
    post(api, survey, 10, person={"external_id": "a"}, channel="email")
    post(api, survey, 7, person={"external_id": "b"})
    post(api, survey, 1, person={"external_id": "c"}, created_at="2025-01-01T00:00:00Z")
    get = lambda q: [r["score"] for r in api.get(f"/api/v1/responses?{q}").json["items"]]  # noqa: E731
    assert get("segment=promoter") == [10]
    assert get("segment=passive") == [7]
    assert get("channel=email") == [10]
    assert get("until=2025-06-01T00:00:00Z") == [1]
    assert get("since=2025-06-01T00:00:00Z") == [10, 7]
    assert get(f"survey_id={survey['id']}&limit=2") == [10, 7]
    assert api.get("/api/v1/responses?segment=fan").status_code == 422


def test_foreign_response_is_invisible(api, other_api, survey):
    rid = post(api, survey, 9).json["id"]
    assert other_api.get(f"/api/v1/responses/{rid}").status_code == 404
    assert other_api.patch(f"/api/v1/responses/{rid}", json={"excluded": True}).status_code == 404
    assert api.get(f"/api/v1/responses/{rid}").json["excluded"] is False


def test_movement_of_each_response(api, survey):
    first = post(api, survey, 9, created_at="2026-01-10T00:00:00Z").json
    assert (first["previous_segment"], first["movement"]) == (None, "new")
    down = post(api, survey, 3, created_at="2026-04-10T00:00:00Z").json
    assert (down["previous_segment"], down["movement"]) == ("promoter", "down")
    same = post(api, survey, 5, created_at="2026-07-10T00:00:00Z").json
    assert same["movement"] == "stayed"
    api.patch(f"/api/v1/responses/{same['id']}", json={"excluded": True})
    up = post(api, survey, 7, created_at="2026-10-10T00:00:00Z").json
    # The excluded answer does not count: the previous one is the detractor 3.
    assert (up["previous_segment"], up["movement"]) == ("detractor", "up")
    excluded = api.get(f"/api/v1/responses/{same['id']}").json
    assert excluded["movement"] is None and excluded["theme_id"] is None
    listed = {r["id"]: r["movement"] for r in api.get("/api/v1/responses").json["items"]}
    assert listed == {first["id"]: "new", down["id"]: "down", same["id"]: None, up["id"]: "up"}
