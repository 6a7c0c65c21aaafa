"""Recording a scored answer through the API, as most API test modules need to."""

from __future__ import annotations


def answer(api, survey_id, who, score, when, **extra):
    """POST /api/v1/responses for person `who` at `when`; asserts 201 and returns the body."""
    r = api.post(
        "/api/v1/responses",
        json={
            "survey_id": survey_id,
            "person": {"external_id": who},
            "score": score,
            "created_at": when,
            **extra,
        },
    )
    assert r.status_code == 201, r.json
    return r.json
