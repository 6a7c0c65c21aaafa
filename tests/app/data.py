"""Answers made through the API for the data pages' tests: two quarters, movers both ways,
comments with LIKE's wildcards in them, and revenue on each answer."""

from __future__ import annotations

from dataclasses import dataclass

from tests.analytics.helpers import movement
from tests.answers import answer

Q1 = "2026-02-01T12:00:00Z"
Q2 = "2026-05-01T12:00:00Z"


@dataclass(frozen=True)
class Data:
    survey_id: int
    people: dict[str, int]  # external id -> person id


def make_answers(api) -> Data:
    r = api.post("/api/v1/surveys", json={"name": "Quarterly NPS"})
    assert r.status_code == 201, r.json
    survey = r.json["id"]
    made = [
        ("ann", 10, Q1, "Love it", 1200),
        ("ann", 2, Q2, "Support never answers", 1200),
        ("bob", 9, Q1, None, 300),
        ("bob", 6, Q2, "100% broken since the update", 300),
        ("cat", 4, Q1, "Too slow", 50),
        ("cat", 10, Q2, "Much faster now", 50),
        ("dan", 8, Q1, "fine_ok", 80),
        ("eve", 7, Q2, "finesse", 20),
    ]
    people = {}
    for who, score, when, comment, mrr in made:
        body = answer(
            api,
            survey,
            who,
            score,
            when,
            comment=comment,
            channel="email" if who != "eve" else "widget",
            properties={"mrr": mrr, "plan": "pro"},
        )
        people[who] = body["person_id"]
    assert api.patch(
        f"/api/v1/people/{people['ann']}",
        json={
            "email": "ann@customer.test",
            "name": "Ann Lee",
            "properties": {"plan": "pro", "mrr": 1200},
        },
    ).status_code in (200, 204)
    return Data(survey, people)


def api_movement(api, data: Data, query: str = "from=2026-Q1&to=2026-Q2"):
    return movement(api, data.survey_id, f"{query}&weight=property:mrr")
