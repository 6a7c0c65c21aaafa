"""Concurrent requests racing to create the same person or answer: one row each, no 500."""

from concurrent.futures import ThreadPoolExecutor


def test_racing_requests_create_one_person_and_honour_one_key(app, api):
    survey = api.post("/api/v1/surveys", json={"name": "Race"}).json["id"]

    def send(i: int):
        return api.post(
            "/api/v1/responses",
            json={"survey_id": survey, "person": {"external_id": "racer"}, "score": 9},
            headers={"Idempotency-Key": "same-key" if i % 2 else f"key-{i}"},
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))
    assert {r.status_code for r in answers} == {201}
    same_key_ids = {r.json["id"] for i, r in enumerate(answers) if i % 2}
    assert len(same_key_ids) == 1
    people = api.get("/api/v1/people?external_id=racer").json["items"]
    assert len(people) == 1
    stored = api.get("/api/v1/responses?limit=100").json["items"]
    assert len(stored) == 1 + 8  # one for the shared key, one per distinct key
    assert {r["person_id"] for r in stored} == {people[0]["id"]}
