"""Helpers shared by the movement tests: exclude answers and read movement through the API."""

from __future__ import annotations


def exclude(api, response):
    r = api.patch(f"/api/v1/responses/{response['id']}", json={"excluded": True})
    assert r.status_code == 200, r.json


def movement(api, survey_id, query=""):
    r = api.get(f"/api/v1/metrics/movement?survey_id={survey_id}&{query}")
    assert r.status_code == 200, r.json
    return r.json


def cells(m, key="count"):
    """The matrix as {(from, to): value} for the non-zero cells."""
    return {
        (a, b): cell[key] for a, row in m["matrix"].items() for b, cell in row.items() if cell[key]
    }
