"""Bad input through every door: numbers no database or JSON holds, text PostgreSQL or UTF-8
cannot store, bodies nested beyond the parser, odd property names. Each is a 4xx with the
error envelope (400 for what is not JSON, 422 naming the field), and the project is not
poisoned: exports, property metrics and listings still answer, in valid JSON."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from sqlalchemy import text

from service import migrate
from surveys.keys import user_hash
from tests.widget.conftest import OLD_CUSTOMER, Widget

SEEDED = {"plan": "pro", "mrr": 10}


def refuse_constant(name: str):
    raise AssertionError(f"{name} is not JSON")


def strict_json(response) -> object:
    """The body read as JSON, refusing what Python's parser alone would let through."""
    return json.loads(response.get_data(as_text=True), parse_constant=refuse_constant)


# A value as raw JSON text (Python's json would not write most of them), and the status.
BAD_VALUES = {
    "overflowing number 1e309": ("1e309", 422),
    "overflowing number -1e309": ("-1e309", 422),
    "integer of 5,000 digits": ("9" * 5000, 422),
    "number beyond 64 bits": ("1e300", 422),
    "NaN": ("NaN", 400),
    "Infinity": ("Infinity", 400),
    "lone high surrogate": ('"\\ud800"', 422),
    "lone low surrogate": ('"ok \\udc00"', 422),
    "NUL": ('"a\\u0000b"', 422),
    "nested 5,000 deep": ('{"a":' * 5000 + "1" + "}" * 5000, 400),
}


class Doors:
    """Sends a body template (`@` marks the bad value) to one door of a seeded project."""

    def __init__(self, api, project) -> None:
        survey = api.post("/api/v1/surveys", json={"name": "NPS", "min_age_days": 0}).json
        self.api, self.survey = api, survey
        self.widget = Widget(api.client, project.publishable_key)
        self.signed = user_hash(project.identity_secret, "u-1")
        seed = {"survey_id": survey["id"], "person": {"external_id": "u-1"}, "score": 9}
        person = {"external_id": "u-1", "email": "ann@example.com", "properties": SEEDED}
        assert api.post("/api/v1/people", json=person).status_code == 201
        assert api.post("/api/v1/responses", json=seed).status_code == 201
        self.person_id = api.get("/api/v1/people").json["items"][0]["id"]

    def api_call(self, method: str, path: str, body: str):
        return getattr(self.api, method)(path, data=body, content_type="application/json")

    def widget_call(self, path: str, body: str):
        return self.widget.client.post(
            f"/w/v1/{path}?key={self.widget.key}", data=body, content_type="text/plain"
        )


def _sub(template: str, value: str, doors: Doors) -> str:
    return (
        template.replace("{survey}", str(doors.survey["id"]))
        .replace("{hash}", doors.signed)
        .replace("{old}", OLD_CUSTOMER)
        .replace("@", value)
    )


# door name: (kind, method, path, body template, the field the error names)
DOORS = {
    "people properties": (
        "api",
        "post",
        "/api/v1/people",
        '{"external_id": "u-1", "properties": {"plan": @}}',
        "properties",
    ),
    "people name": ("api", "post", "/api/v1/people", '{"external_id": "u-1", "name": @}', "name"),
    "people external_id": ("api", "post", "/api/v1/people", '{"external_id": @}', "external_id"),
    "people PATCH properties": (
        "api",
        "patch",
        "/api/v1/people/{person}",
        '{"properties": {"mrr": @}}',
        "properties",
    ),
    "batch properties": (
        "api",
        "post",
        "/api/v1/people/batch",
        '{"people": [{"external_id": "u-9", "properties": {"plan": @}}]}',
        "properties",
    ),
    "batch email": (
        "api",
        "post",
        "/api/v1/people/batch",
        '{"people": [{"external_id": "u-9", "email": @}]}',
        "email",
    ),
    "responses comment": (
        "api",
        "post",
        "/api/v1/responses",
        '{"survey_id": {survey}, "person": {"external_id": "u-1"}, "score": 5, "comment": @}',
        "comment",
    ),
    "responses person": (
        "api",
        "post",
        "/api/v1/responses",
        '{"survey_id": {survey}, "person": {"external_id": @}, "score": 5}',
        "external_id",
    ),
    "responses properties": (
        "api",
        "post",
        "/api/v1/responses",
        '{"survey_id": {survey}, "person": {"external_id": "u-1"}, "score": 5, '
        '"properties": {"plan": @}}',
        "properties",
    ),
    "widget visit external_id": (
        "widget",
        "post",
        "visits",
        '{"anonymous_id": "anon-visitor-1", "external_id": @}',
        "external_id",
    ),
    "widget visit properties": (
        "widget",
        "post",
        "visits",
        '{"external_id": "u-1", "user_hash": "{hash}", "created_at": "{old}", '
        '"properties": {"plan": @}}',
        "properties",
    ),
    "widget visit name": (
        "widget",
        "post",
        "visits",
        '{"external_id": "u-1", "user_hash": "{hash}", "name": @}',
        "name",
    ),
    "widget feedback comment": (
        "widget",
        "post",
        "feedback",
        '{"anonymous_id": "anon-visitor-1", "comment": @}',
        "comment",
    ),
    "widget feedback properties": (
        "widget",
        "post",
        "feedback",
        '{"external_id": "u-1", "user_hash": "{hash}", "comment": "hi", "properties": {"plan": @}}',
        "properties",
    ),
    "widget feedback category": (
        "widget",
        "post",
        "feedback",
        '{"anonymous_id": "anon-visitor-1", "comment": "hi", "category": @}',
        "category",
    ),
}


@pytest.fixture
def doors(api, project) -> Doors:
    return Doors(api, project)


def assert_not_poisoned(doors: Doors) -> None:
    api = doors.api
    for fmt in ("csv", "ndjson", "xlsx", "parquet"):
        r = api.get(f"/api/v1/export/responses?format={fmt}")
        assert r.status_code == 200, (fmt, r.get_data()[:300])
    for query in ("group_by=property:plan", "weight=property:mrr", "group_by=property:mrr"):
        r = api.get(f"/api/v1/metrics/nps?{query}")
        assert r.status_code == 200, (query, r.json)
        strict_json(r)
    r = api.get("/api/v1/metrics/movement?survey_id={}&from=2020-Q1".format(doors.survey["id"]))
    assert r.status_code == 200, r.json
    people = strict_json(api.get("/api/v1/people"))
    assert [p["properties"] for p in people["items"]] == [SEEDED]
    for item in strict_json(api.get("/api/v1/responses"))["items"]:
        assert item["properties"] == SEEDED


def assert_envelope(r, status: int, field: str | None) -> None:
    assert r.status_code == status, (r.status_code, r.get_data()[:300])
    error = strict_json(r)["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == ("malformed_json" if status == 400 else "invalid")
    if field is not None:
        assert field in json.dumps(error["details"]), error


@pytest.mark.parametrize("door", DOORS)
def test_bad_values_are_refused_and_the_project_unharmed(doors, door, subtests):
    kind, method, path, template, field = DOORS[door]
    for bad, (value, status) in BAD_VALUES.items():
        with subtests.test(bad=bad):
            body = _sub(template, value, doors)
            if kind == "api":
                r = doors.api_call(method, path.replace("{person}", str(doors.person_id)), body)
            else:
                r = doors.widget_call(path, body)
            if door.startswith("batch") and r.status_code == 200:
                # The batch refuses a bad row on its own, naming its field, and stores the rest.
                assert r.json["failed"] == 1 and r.json["errors"][0]["index"] == 0
                assert field in json.dumps(r.json["errors"][0]["errors"]) and status == 422
            else:
                assert_envelope(r, status, field if status == 422 else None)
    assert_not_poisoned(doors)


@pytest.mark.parametrize("required", [True, False])
def test_user_hash_that_is_not_ascii_is_invalid(doors, required, subtests):
    doors.api.patch("/api/v1/project", json={"require_identity_verification": required})
    for given in ("é" * 64, "\u0663" * 64, "ab\u0000cd"):
        with subtests.test(user_hash=given):
            body = {"external_id": "u-1", "anonymous_id": "anon-visitor-1", "user_hash": given}
            assert_envelope(doors.widget_call("visits", json.dumps(body)), 422, "user_hash")
    assert_not_poisoned(doors)


@pytest.mark.parametrize("field", ["comment", "score"])
def test_nul_in_the_email_link_form_is_refused(app, doors, field):
    """The email link's pages take a form: NUL there is refused with the 422 page."""
    from service.tokens import score_token

    invite = {"person_ids": [doors.person_id], "force": True}
    created = doors.api.post(f"/api/v1/surveys/{doors.survey['id']}/invitations", json=invite)
    with app.app_context():
        token = score_token(created.json["invitations"][0]["id"])
    page = f"/r/{token}"
    assert doors.api.client.post(page, data={"score": "6"}).status_code == 303
    form = {"step": "comment", "comment": "fine"} if field == "score" else {"step": "comment"}
    form[field] = "a\u0000b"
    r = doors.api.client.post(page, data=form)
    assert r.status_code == 422 and "text/html" in r.content_type
    assert doors.api.client.post(page, data={"step": "comment", "comment": "ok"}).status_code == 303
    comments = [i["comment"] for i in strict_json(doors.api.get("/api/v1/responses"))["items"]]
    assert comments == [None, "ok"]
    assert_not_poisoned(doors)


# (query string, the parameter the error names)
QUERIES = {
    "metrics group_by": ("/api/v1/metrics/nps?group_by=property:{}", "group_by"),
    "metrics weight": ("/api/v1/metrics/nps?weight=property:{}", "weight"),
    "export properties": ("/api/v1/export/responses?properties={}", "properties"),
    "export metrics group_by": ("/api/v1/export/metrics?group_by=property:{}", "group_by"),
    "movement weight": ("/api/v1/metrics/movement?from=2026-Q1&weight=property:{}", "weight"),
    "people email": ("/api/v1/people?email={}", "email"),
    "responses since": ("/api/v1/responses?since={}", "since"),
}


@pytest.mark.parametrize("query", QUERIES)
def test_nul_in_a_query_parameter_is_invalid(doors, query, subtests):
    path, field = QUERIES[query]
    for name in ("a\u0000b", "\u0000"):
        with subtests.test(name=name):
            assert_envelope(doors.api.get(path.format(quote(name))), 422, field)
    assert_not_poisoned(doors)


def test_json_path_characters_in_property_names(doors, subtests):
    """A name is a key, never a JSON path: answered or refused by name, never a 500."""
    for number, name in enumerate(['a"b', "a\\b", 'a\\"b', "a.b", "a[0]", "$", "a'b", "*"]):
        with subtests.test(name=name):
            body = {
                "survey_id": doors.survey["id"],
                "person": {"external_id": f"u-{number + 2}"},
                "score": 3,
                "properties": {name: 7},
            }
            assert doors.api.post("/api/v1/responses", json=body).status_code == 201
            grouped = doors.api.get(f"/api/v1/metrics/nps?group_by=property:{quote(name)}")
            weighted = doors.api.get(f"/api/v1/metrics/nps?weight=property:{quote(name)}")
            if '"' in name or "\\" in name:
                # SQLite's JSON paths cannot quote these: refused rather than answered wrongly.
                assert_envelope(grouped, 422, "group_by")
                assert_envelope(weighted, 422, "weight")
            else:
                assert grouped.status_code == 200
                keys = sorted(b["key"] or "" for b in grouped.json["buckets"])
                assert keys == ["", "7"]
                assert weighted.json["overall"]["weighted"]["detractors"] == 7
            url = f"/api/v1/export/responses?format=ndjson&properties={quote(name)}"
            lines = doors.api.get(url).get_data(as_text=True).splitlines()
            values = [json.loads(line)[f"property.{name}"] for line in lines]
            assert values == [None] * (number + 1) + [7]


# As the JSON text Python wrote before the checks: what each database let through.
STORED = {
    "sqlite": '{"plan": "pro", "mrr": Infinity, "low": -Infinity, "odd": NaN, "big": 1e+300, '
    '"huge": 100000000000000000000000, "nul": "a\\u0000b", "half": "\\ud800", '
    '"\\udc00": 1, "seats": 3}',
    # PostgreSQL's json refuses Infinity and NaN.
    "postgresql": '{"plan": "pro", "mrr": 1e+300, "huge": 100000000000000000000000, '
    '"nul": "a\\u0000b", "half": "\\ud800", "\\udc00": 1, "seats": 3}',
}
REPAIRED = {
    "sqlite": {
        "plan": "pro",
        "mrr": None,
        "low": None,
        "odd": None,
        "big": None,
        "huge": None,
        "nul": None,
        "half": None,
        "seats": 3,
    },
    "postgresql": {"plan": "pro", "mrr": None, "huge": None, "nul": None, "half": None, "seats": 3},
}


def test_values_stored_before_the_checks_are_repaired(app, doors, database_url):
    """Rows written before every door checked them, straight into the database, are repaired
    by the migration: the project's exports and property metrics answer again."""
    dialect = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    engine = app.extensions["db_engine"]
    engine.dispose()
    migrate.downgrade(engine, "0007_people_trusted")
    try:
        with engine.begin() as conn:
            for table in ("people", "survey_responses"):
                conn.execute(text(f"UPDATE {table} SET properties = :p"), {"p": STORED[dialect]})
    finally:
        migrate.upgrade(engine)
    api = doors.api
    for fmt in ("csv", "ndjson", "xlsx", "parquet"):
        r = api.get(f"/api/v1/export/responses?format={fmt}")
        assert r.status_code == 200, (fmt, r.get_data()[:300])
    for query in ("group_by=property:plan", "weight=property:mrr", "weight=property:seats"):
        assert api.get(f"/api/v1/metrics/nps?{query}").status_code == 200, query
    rows = api.get("/api/v1/export/responses?format=ndjson").get_data(as_text=True).splitlines()
    assert json.loads(rows[0])["property.seats"] == 3
    assert [p["properties"] for p in strict_json(api.get("/api/v1/people"))["items"]] == [
        REPAIRED[dialect]
    ]
    assert strict_json(api.get("/api/v1/responses"))["items"][0]["properties"] == REPAIRED[dialect]
