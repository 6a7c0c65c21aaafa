"""NPS per quarter or month read from the pre-aggregate `period_answers` equals the same figures
ranked from the stored answers (the path taken when the rows are stale or cannot answer), and
the fast path reads no answer at all."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from service.db import db
from surveys import period_answers
from surveys.analytics.metrics import score_histogram
from surveys.models import Project
from surveys.periods import period_from_label
from surveys.response_filters import ResponseFilters
from tests.analytics.helpers import exclude
from tests.answers import answer
from tests.conftest import Api, make_project

FIGURES = ("responses", "promoters", "passives", "detractors", "nps", "margin_of_error")


@contextmanager
def statements(app):
    """Every SQL statement the app runs inside the block."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):  # noqa: ANN001, ANN002
        seen.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def figures(body):
    out = {"all": tuple(body["overall"][k] for k in FIGURES)}
    for b in body["buckets"]:
        out[b["key"]] = tuple(b[k] for k in FIGURES)
    return out


def make_stale(app, project_id):
    """What a new time zone does until the worker rebuilds: the rows may not be read."""
    with app.app_context():
        db().get(Project, project_id).periods_zone = None
        db().commit()


def rebuild(app, project_id):
    with app.app_context():
        period_answers.rebuild(db(), db().get(Project, project_id))
        db().commit()


def test_a_hand_computed_example(api, survey_id, app):
    # Q1: a answers 2 then 9 (the 9 counts), b 7, c 10 excluded and 3 -> 1 promoter, 1 passive,
    # 1 detractor. Q3 (Q2 empty): a 0 -> 1 detractor. Overall: a 0, b 7, c 3.
    answer(api, survey_id, "a", 2, "2026-01-05T10:00:00Z")
    answer(api, survey_id, "a", 9, "2026-02-05T10:00:00Z")
    answer(api, survey_id, "b", 7, "2026-03-01T10:00:00Z")
    exclude(api, answer(api, survey_id, "c", 10, "2026-03-02T10:00:00Z"))
    answer(api, survey_id, "c", 3, "2026-03-01T09:00:00Z")
    answer(api, survey_id, "a", 0, "2026-08-01T10:00:00Z")
    with statements(app) as seen:
        body = api.get("/api/v1/metrics/nps?group_by=quarter").json
    assert not [s for s in seen if "survey_responses" in s]
    assert [b["key"] for b in body["buckets"]] == ["2026-Q1", "2026-Q2", "2026-Q3"]
    q1, q2, q3 = body["buckets"]
    assert (q1["responses"], q1["promoters"], q1["passives"], q1["detractors"]) == (3, 1, 1, 1)
    assert q1["nps"] == 0.0
    assert q2["responses"] == 0 and q2["nps"] is None
    assert (q3["responses"], q3["detractors"], q3["nps"]) == (1, 1, -100.0)
    overall = body["overall"]
    assert (overall["responses"], overall["passives"], overall["detractors"]) == (3, 1, 2)
    assert overall["nps"] == pytest.approx(-200 / 3, abs=0.01)


@pytest.mark.parametrize("unit", ["quarter", "month"])
def test_random_answers_equal_the_answers_path(app, client, unit):
    keys = make_project(app, "Tokyo Co", "Asia/Tokyo")
    api = Api(client, keys)
    survey_id = api.post("/api/v1/surveys", json={"name": "NPS"}).json["id"]
    rng = random.Random(11)
    start = datetime(2025, 10, 1)
    for i in range(80):
        at = start + timedelta(hours=rng.randrange(0, 24 * 300, 7))
        stored = answer(api, survey_id, f"p{rng.randrange(15)}", rng.randrange(11), at.isoformat())
        if i % 9 == 0:
            exclude(api, stored)
    url = f"/api/v1/metrics/nps?group_by={unit}"
    with statements(app) as seen:
        fast = api.get(url).json
    assert not [s for s in seen if "survey_responses" in s]
    make_stale(app, keys.id)
    with statements(app) as seen:
        ranked = api.get(url).json
    assert [s for s in seen if "survey_responses" in s]  # stale: the answers were read
    assert figures(fast) == figures(ranked)
    assert fast["buckets"] == ranked["buckets"]
    rebuild(app, keys.id)
    assert api.get(url).json == fast

    # The histogram of one whole period comes from the same rows and equals the ranked one.
    label = fast["buckets"][1]["key"]
    with app.app_context():
        project = db().get(Project, keys.id)
        period = period_from_label(label, unit, project.time_zone)
        only = ResponseFilters(since=period.start, until=period.end)
        from_rows = score_histogram(db(), project, only)
        project.periods_zone = None
        ranked_counts = score_histogram(db(), project, only)
        db().rollback()
    assert from_rows == ranked_counts
    assert sum(from_rows) == fast["buckets"][1]["responses"]


def test_two_surveys_count_a_person_once_per_period(api, app):
    # The rows are kept per survey; NPS counts a person once per period across surveys, so a
    # project with two surveys is answered from the answers unless one survey is asked for.
    first = api.post("/api/v1/surveys", json={"name": "One"}).json["id"]
    second = api.post("/api/v1/surveys", json={"name": "Two"}).json["id"]
    answer(api, first, "a", 10, "2026-01-05T10:00:00Z")
    answer(api, second, "a", 0, "2026-01-06T10:00:00Z")
    answer(api, first, "b", 9, "2026-01-07T10:00:00Z")
    both = api.get("/api/v1/metrics/nps?group_by=quarter").json
    assert (both["buckets"][0]["responses"], both["buckets"][0]["detractors"]) == (2, 1)
    with statements(app) as seen:
        one = api.get(f"/api/v1/metrics/nps?group_by=quarter&survey_id={first}").json
    assert not [s for s in seen if "survey_responses" in s]
    assert (one["buckets"][0]["responses"], one["buckets"][0]["promoters"]) == (2, 2)


def test_other_filters_and_weights_read_the_answers(api, survey_id, app):
    answer(api, survey_id, "a", 9, "2026-01-05T10:00:00Z", properties={"mrr": 5})
    answer(api, survey_id, "b", 3, "2026-02-05T10:00:00Z", channel="widget")
    for query in ("channel=widget", "weight=property:mrr", "since=2026-01-10T00:00:00Z"):
        with statements(app) as seen:
            r = api.get(f"/api/v1/metrics/nps?group_by=quarter&{query}")
        assert r.status_code == 200, r.json
        assert [s for s in seen if "survey_responses" in s], query
        assert r.json["buckets"][0]["responses"] == 1


def counted(app):
    """(per period answers GROUP BY, per period scores summed), both {(survey, unit, period,
    score): people} without zeros."""
    from sqlalchemy import func, select

    from surveys.models import PeriodAnswer, PeriodScore

    with app.app_context():
        pa, ps = PeriodAnswer, PeriodScore
        key = (pa.survey_id, pa.unit, pa.period, pa.score)
        rows = db().execute(select(*key, func.count()).group_by(*key))
        answers = {tuple(r[:4]): r[4] for r in rows}
        key = (ps.survey_id, ps.unit, ps.period, ps.score)
        rows = db().execute(select(*key, func.sum(ps.people)).group_by(*key))
        scores = {tuple(r[:4]): r[4] for r in rows if r[4]}
    return answers, scores


def test_period_scores_follow_every_write(app, client):
    """The counts the triggers keep equal a count of the period answers after answers,
    rescoring, exclusion and its undoing, erasure, and a rebuild in a new time zone."""
    keys = make_project(app, "Lisbon Co", "Europe/Lisbon")
    api = Api(client, keys)
    survey_id = api.post("/api/v1/surveys", json={"name": "NPS"}).json["id"]
    rng = random.Random(5)
    stored = []
    for _ in range(40):
        at = datetime(2026, 1, 1) + timedelta(hours=rng.randrange(0, 24 * 200, 5))
        who = f"p{rng.randrange(10)}"
        stored.append(answer(api, survey_id, who, rng.randrange(11), at.isoformat() + "Z"))
    answers, scores = counted(app)
    assert answers == scores and sum(answers.values()) > 0
    exclude(api, stored[3])
    exclude(api, stored[7])
    api.patch(f"/api/v1/responses/{stored[7]['id']}", json={"excluded": False})
    assert api.delete(f"/api/v1/people/{stored[0]['person_id']}").status_code == 204
    answers, scores = counted(app)
    assert answers == scores
    assert api.patch("/api/v1/project", json={"time_zone": "Asia/Kolkata"}).status_code == 200
    rebuild(app, keys.id)
    after = counted(app)
    assert after[0] == after[1] and sum(after[0].values()) > 0
