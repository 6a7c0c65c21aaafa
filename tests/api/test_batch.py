"""POST /responses/batch: per-row results, idempotent rows, people created with the batch,
period answers equal to a rebuild, limits and tenant isolation."""

from __future__ import annotations

import dataclasses

import pytest

from tests.analytics.helpers import assert_linked, rebuilt, rows
from tests.answers import answer
from tests.conftest import Api, make_project


def _survey(api) -> int:
    r = api.post("/api/v1/surveys", json={"name": "NPS"})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _batch(api, answers, status=200):
    r = api.post("/api/v1/responses/batch", json={"responses": answers})
    assert r.status_code == status, r.json
    return r.json


def test_rows_are_stored_and_bad_rows_reported_by_index(api, other_api):
    survey_id = _survey(api)
    foreign_survey = _survey(other_api)
    foreign_person = answer(other_api, foreign_survey, "x", 9, "2026-01-01T00:00:00Z")
    good = {
        "survey_id": survey_id,
        "person": {"external_id": "ann", "name": "Ann", "properties": {"plan": "pro"}},
        "score": 9,
        "comment": "Fast",
        "created_at": "2025-03-01T10:00:00Z",
        "idempotency_key": "row-0",
    }
    rows_in = [
        good,
        {**good, "score": 11, "idempotency_key": "row-1"},  # schema: 0-10
        {**good, "survey_id": foreign_survey, "idempotency_key": "row-2"},  # another project's
        {**good, "person": {"id": foreign_person["person_id"]}, "idempotency_key": "row-3"},
        {**good, "person": {"email": "not-an-email"}, "idempotency_key": "row-4"},
        {"survey_id": survey_id, "person": {"email": "Bob@Example.com"}, "score": 3},
        "not an object",
        {**good, "comment": "x" * 5001, "idempotency_key": "row-7"},
    ]
    body = _batch(api, rows_in)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [201, 422, 404, 404, 422, 201, 422, 422]
    assert [r["index"] for r in body["results"]] == list(range(8))
    assert (body["created"], body["existing"], body["failed"]) == (2, 0, 6)
    assert body["results"][1]["error"]["code"] == "invalid"
    assert "score" in body["results"][1]["error"]["details"]
    assert body["results"][2]["error"]["code"] == "not_found"
    assert "email" in body["results"][4]["error"]["details"]["person"]

    ann = api.get(f"/api/v1/responses/{body['results'][0]['id']}").json
    assert ann["score"] == 9 and ann["segment"] == "promoter" and ann["comment"] == "Fast"
    assert ann["created_at"] == "2025-03-01T10:00:00Z"
    assert ann["properties"] == {"plan": "pro"}  # the new person's properties, snapshotted
    person = api.get(f"/api/v1/people/{ann['person_id']}").json
    assert person["name"] == "Ann" and person["properties"] == {"plan": "pro"}
    bob = api.get(f"/api/v1/responses/{body['results'][5]['id']}").json
    assert api.get(f"/api/v1/people/{bob['person_id']}").json["email"] == "bob@example.com"
    # The other project saw nothing.
    assert [r["id"] for r in other_api.get("/api/v1/responses").json["items"]] == [
        foreign_person["id"]
    ]


def test_a_retried_batch_creates_nothing_new(api):
    survey_id = _survey(api)
    answers = [
        {
            "survey_id": survey_id,
            "person": {"external_id": f"p{i % 7}"},
            "score": i % 11,
            "created_at": f"2025-0{1 + i % 6}-15T12:00:00Z",
            "idempotency_key": f"k{i}",
        }
        for i in range(40)
    ]
    answers.append({**answers[3]})  # the same key twice in one batch: one answer
    first = _batch(api, answers)
    assert (first["created"], first["existing"], first["failed"]) == (40, 1, 0)
    assert first["results"][40]["id"] == first["results"][3]["id"]
    again = _batch(api, answers)
    assert (again["created"], again["existing"], again["failed"]) == (0, 41, 0)
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    listed = api.get("/api/v1/responses?limit=100").json["items"]
    assert len(listed) == 40
    assert len({r["person_id"] for r in listed}) == 7
    # The single-answer door sees the batch's keys too.
    r = api.post(
        "/api/v1/responses",
        json={"survey_id": survey_id, "person": {"external_id": "p0"}, "score": 1},
        headers={"Idempotency-Key": "k0"},
    )
    assert r.status_code == 201 and r.json["id"] == first["results"][0]["id"]


def test_period_answers_equal_a_rebuild(app, client):
    keys = make_project(app, "New York Co", "America/New_York")
    api = Api(client, keys)
    survey_id = _survey(api)
    # Stored one by one before the batch: the batch's answers must beat or lose to these.
    answer(api, survey_id, "a", 9, "2026-02-20T12:00:00Z")
    answer(api, survey_id, "b", 2, "2026-01-10T12:00:00Z")
    batch = [
        # older than a's stored answer in the same quarter: a's 9 stays counted
        ("a", 0, "2026-02-10T12:00:00Z", False),
        # later than b's: b's 10 becomes counted
        ("b", 10, "2026-03-10T12:00:00Z", False),
        # 02:00 UTC on 1 April is still 31 March in New York
        ("c", 5, "2026-04-01T02:00:00Z", False),
        ("c", 8, "2026-04-01T05:00:00Z", False),
        # the same instant twice: the later id counts
        ("d", 3, "2026-05-05T10:00:00Z", False),
        ("d", 8, "2026-05-05T10:00:00Z", False),
        # an excluded later answer does not count
        ("e", 7, "2026-06-01T12:00:00Z", False),
        ("e", 1, "2026-06-20T12:00:00Z", True),
        ("f", 6, "2019-11-11T11:11:11Z", False),
    ]
    body = _batch(
        api,
        [
            {
                "survey_id": survey_id,
                "person": {"external_id": who},
                "score": score,
                "created_at": when,
                "excluded": excluded,
            }
            for who, score, when, excluded in batch
        ]
        + [{"person": {"external_id": "g"}, "score": None, "survey_id": survey_id}],
    )
    assert body["created"] == len(batch)
    kept = rows(app, keys.id)
    assert kept == rebuilt(app, keys.id)
    linked = rows(app, keys.id, linked=True)
    assert linked == rebuilt(app, keys.id, linked=True)
    assert_linked(linked, "America/New_York")
    counted = {(r[1], r[2], r[4]) for r in kept if r[3] == kept_person(api, "b")}
    assert ("quarter", "2026-Q1", 10) in counted


def test_a_batch_links_periods_it_writes_side_by_side_and_the_periods_after(app, api, project):
    """A batch's rows come linked to the previous period's rows as they stood before it, and
    the rows after each of its answers' periods are linked again: a person's consecutive
    periods in one batch (newest first), and a batch that brings the period before rows a
    former batch stored, must both read as a rebuild."""
    survey_id = _survey(api)

    def send(rows):
        body = _batch(
            api,
            [
                {"survey_id": survey_id, "person": {"external_id": who}, "score": score,
                 "created_at": when}
                for who, score, when in rows
            ],
        )  # fmt: skip
        assert body["created"] == len(rows), body

    send(
        [
            ("x", 2, "2026-09-10T12:00:00Z"),
            ("x", 9, "2026-05-10T12:00:00Z"),
            ("x", 6, "2026-04-20T12:00:00Z"),
            ("x", 10, "2026-02-10T12:00:00Z"),
            ("y", 3, "2026-05-15T12:00:00Z"),
            ("y", 8, "2026-08-15T12:00:00Z"),
        ]
    )
    send([("y", 10, "2026-02-15T12:00:00Z"), ("y", 7, "2026-04-15T12:00:00Z")])
    linked = rows(app, project.id, linked=True)
    assert linked == rebuilt(app, project.id, linked=True)
    assert_linked(linked, "UTC")
    # y's second quarter moved from the promoter of the first (stored after it) to a
    # detractor: the linked row says so.
    y = kept_person(api, "y")
    q2 = [r for r in linked if r[3] == y and r[1] == "quarter" and r[2] == "2026-Q2"]
    assert [(r[4], r[7]) for r in q2] == [(3, 10)], q2


def kept_person(api, external_id):
    return api.get(f"/api/v1/people?external_id={external_id}").json["items"][0]["id"]


def test_envelope_limits(app, api):
    survey_id = _survey(api)
    row = {"survey_id": survey_id, "person": {"external_id": "x"}, "score": 5}
    assert _batch(api, [row] * 10_001, 422)["error"]["code"] == "invalid"
    _batch(api, [], 422)
    r = api.post("/api/v1/responses/batch", json={"responses": {"not": "a list"}})
    assert r.status_code == 422
    r = api.post("/api/v1/responses/batch", data="{", content_type="application/json")
    assert r.status_code == 400
    settings = app.config["FLYWHEEL"]
    app.config["FLYWHEEL"] = dataclasses.replace(settings, max_batch_body_bytes=2_000)
    r = api.post("/api/v1/responses/batch", json={"responses": [row] * 100})
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    app.config["FLYWHEEL"] = settings
    assert _batch(api, [row] * 100)["created"] == 100


def test_needs_the_secret_key(client, project):
    r = client.post("/api/v1/responses/batch", json={"responses": []})
    assert r.status_code == 401


# Addresses near the edges of the loader's plain shape and of marshmallow's own check: each
# must load (or fail) exactly as the schema has it.
EMAILS = [
    "a@b.co",
    "first.last+tag@mail.example.com",
    "under_score-dash@x-y.example.museum",
    "a@b.c",
    "a@b.abcdefg",
    "a@b.a1",
    "a@b",
    "a@localhost",
    "a@-b.com",
    "a@b-.com",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    ".a@b.com",
    "a.@b.com",
    "a..b@b.com",
    "a b@b.com",
    "a@b@c.com",
    "a@b..com",
    "a@b.com.",
    "a@b.com\n",
    '"quoted name"@b.com',
    "o'brien@b.com",
    "ü@b.com",
    "a@bü.com",
    "a@[127.0.0.1]",
    "@b.com",
    "a@",
]


def test_plain_emails_are_a_subset_of_marshmallows():
    from service.schemas.batch import _EMAIL, _PLAIN_EMAIL

    plain = [e for e in EMAILS if _PLAIN_EMAIL.fullmatch(e)]
    assert plain == [*EMAILS[:3], "a@" + "b" * 63 + ".com"]
    for email in plain:
        assert _EMAIL.deserialize(email) == email


def test_the_row_loader_agrees_with_the_schema():
    from marshmallow import ValidationError

    from service.schemas.batch import ResponseBatchRowSchema, RowLoader

    good = {
        "survey_id": 3,
        "person": {"external_id": "a", "email": "A@Example.com", "name": "Ann"},
        "score": 7,
        "comment": "ok",
        "channel": "import",
        "locale": "de",
        "created_at": "2025-01-01T10:00:00+02:00",
        "properties": {"plan": "pro", "mrr": 1.5, "beta": True, "none": None},
        "idempotency_key": "k",
        "excluded": True,
    }
    variants = [
        good,
        {"survey_id": 1, "person": {"email": "b@example.com"}, "score": 0},
        {"survey_id": 1, "person": {"id": 5}, "score": 10, "comment": None, "properties": None},
        {**good, "score": True},
        {**good, "score": 7.0},
        {**good, "score": "7"},
        {**good, "survey_id": 0},
        {**good, "survey_id": 2**63},
        {**good, "person": {}},
        {**good, "person": {"external_id": ""}},
        {**good, "person": {"email": "x"}},
        {**good, "person": {"name": "only a name"}},
        {**good, "person": {"external_id": "a", "unknown": 1}},
        {**good, "person": {"external_id": "a", "name": "two\nlines"}},
        {**good, "comment": "x" * 5001},
        {**good, "channel": "fax"},
        {**good, "locale": "x" * 36},
        {**good, "idempotency_key": ""},
        {**good, "idempotency_key": None},
        {**good, "created_at": "yesterday"},
        {**good, "created_at": None},
        {**good, "created_at": "1800-01-01T00:00:00Z"},
        {**good, "properties": {"nested": {"a": 1}}},
        {**good, "properties": {"": 1}},
        {**good, "properties": {"n": float("inf")}},
        {**good, "excluded": "yes"},
        {**good, "unknown": 1},
        [good],
        *({**good, "person": {"email": email}} for email in EMAILS),
    ]
    schema, loader = ResponseBatchRowSchema(), RowLoader()
    for row in variants:
        try:
            expected = schema.load(row)
        except ValidationError as exc:
            expected = ("error", exc.messages)
        try:
            got = loader.load(row)
        except ValidationError as exc:
            got = ("error", exc.messages)
        if isinstance(expected, dict):
            expected.setdefault("channel", "api")
        assert got == expected, row


def test_unstorable_text_refuses_the_whole_batch(api):
    survey_id = _survey(api)
    row = {"survey_id": survey_id, "person": {"external_id": "x"}, "score": 5}
    bad = {**row, "comment": "nul \u0000 here"}
    r = api.post("/api/v1/responses/batch", json={"responses": [row, bad]})
    assert r.status_code == 422, r.json
    assert api.get("/api/v1/responses").json["items"] == []


def test_bulk_rows_keep_the_row_a_concurrent_writer_stored(app, api, project):
    """`insert_rows` skips a keyed row whose key is stored already (a concurrent writer's,
    here one stored before the call, the batch's own check bypassed): on PostgreSQL the COPY
    fails in its savepoint and the rows go in again with ON CONFLICT DO NOTHING."""
    from datetime import datetime

    from service.db import db
    from surveys.database.bulk_rows import insert_rows
    from surveys.models import SurveyResponse

    survey_id = _survey(api)
    stored = _batch(
        api,
        [{"survey_id": survey_id, "person": {"external_id": "ann"}, "score": 9,
          "created_at": "2026-01-01T00:00:00Z", "idempotency_key": "taken"}],
    )  # fmt: skip
    theirs = api.get(f"/api/v1/responses/{stored['results'][0]['id']}").json
    when = datetime(2026, 2, 1)

    def row(key):
        return {
            "project_id": project.id,
            "survey_id": survey_id,
            "person_id": theirs["person_id"],
            "score": 3,
            "comment": "new",
            "excluded": False,
            "properties": {"plan": "pro", "mrr": 1.5},
            "idempotency_key": key,
            "created_at": when,
            "updated_at": when,
        }

    with app.app_context():
        session = db()
        made, plain = insert_rows(
            session, SurveyResponse.__table__, [row("taken"), row("fresh")], [row(None)] * 2,
            "idempotency_key",
        )  # fmt: skip
        session.commit()
    assert set(made) == {"fresh"} and len(plain) == 2 and plain[0] < plain[1]
    assert api.get(f"/api/v1/responses/{theirs['id']}").json["score"] == 9
    for rid in [made["fresh"], *plain]:
        stored = api.get(f"/api/v1/responses/{rid}").json
        assert stored["score"] == 3 and stored["properties"] == {"plan": "pro", "mrr": 1.5}
        assert stored["created_at"] == "2026-02-01T00:00:00Z" and stored["comment"] == "new"


def test_a_batch_into_a_new_database_links_on_fresh_statistics(app, api):
    """On PostgreSQL a batch's link seeks each row's previous period by the planner's
    statistics; planned on tables it believes empty (a new database: TRUNCATE leaves no
    statistics), each seek became a scan, quadratic in the batch. The batch analyses the
    tables whose statistics count fewer rows than it wrote, and only those."""
    from sqlalchemy import text

    engine = app.extensions["db_engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")

    def known() -> dict[str, float]:
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT relname, reltuples FROM pg_class "
                    "WHERE relname IN ('period_answers', 'survey_responses')"
                )
            )
            return dict(found.all())

    assert set(known().values()) <= {-1.0, 0.0}  # never analysed since the TRUNCATE
    survey_id = _survey(api)
    rows = [
        {"survey_id": survey_id, "person": {"external_id": f"p{i % 30}"}, "score": i % 11,
         "created_at": f"2026-0{1 + i // 30}-15T12:00:00Z"}
        for i in range(90)
    ]  # fmt: skip
    assert _batch(api, rows)["created"] == 90
    # 30 people: a quarter row each and a month row for each of their 90 answers.
    assert known() == {"period_answers": 120.0, "survey_responses": 90.0}
    # Statistics that hold the tables' sizes are left alone by the next, smaller batch.
    assert _batch(api, [{**r, "score": 3} for r in rows[:20]])["created"] == 20
    assert known() == {"period_answers": 120.0, "survey_responses": 90.0}
