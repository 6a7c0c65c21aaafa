"""People: upsert, batch, pagination, erasure, tenant isolation."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from service.db import db
from surveys import people
from surveys.models import Person, Project


def test_create_then_update_by_external_id(api):
    r = api.post(
        "/api/v1/people",
        json={"external_id": "u1", "email": "Ann@Example.com", "properties": {"plan": "pro"}},
    )
    assert r.status_code == 201
    pid = r.json["id"]
    assert r.json["email"] == "ann@example.com"
    r = api.post("/api/v1/people", json={"external_id": "u1", "properties": {"mrr": 49.5}})
    assert r.status_code == 200
    assert r.json["id"] == pid
    assert r.json["properties"] == {"plan": "pro", "mrr": 49.5}


def test_match_by_email_when_no_external_id(api):
    a = api.post("/api/v1/people", json={"email": "bob@example.com", "name": "Bob"}).json
    b = api.post("/api/v1/people", json={"email": "BOB@example.com", "locale": "ru"})
    assert b.status_code == 200 and b.json["id"] == a["id"] and b.json["locale"] == "ru"


def test_person_needs_an_identity(api):
    r = api.post("/api/v1/people", json={"name": "Nobody"})
    assert r.status_code == 422
    assert "external_id" in r.json["error"]["details"]["json"]


def test_bad_property_values_are_refused(api):
    r = api.post("/api/v1/people", json={"external_id": "x", "properties": {"a": {"nested": 1}}})
    assert r.status_code == 422


def test_batch_keeps_good_rows_and_reports_bad_ones(api):
    rows = [{"external_id": f"b{i}", "properties": {"i": i}} for i in range(300)]
    rows[7] = {"external_id": "b7", "email": "not-an-email"}
    rows[8] = {"name": "no identity"}
    rows.append({"external_id": "b0", "name": "duplicate in batch updates"})
    r = api.post("/api/v1/people/batch", json={"people": rows})
    assert r.status_code == 200, r.json
    assert r.json["created"] == 298
    assert r.json["updated"] == 1
    assert [e["index"] for e in r.json["errors"]] == [7, 8]
    assert "email" in r.json["errors"][0]["errors"]
    again = api.post("/api/v1/people/batch", json={"people": rows[:5]}).json
    assert again["created"] == 0 and again["updated"] == 5
    b0 = api.get("/api/v1/people?external_id=b0").json["items"][0]
    assert b0["name"] == "duplicate in batch updates"


def test_batch_limits(api):
    r = api.post("/api/v1/people/batch", json={"people": [{"external_id": "x"}] * 10_001})
    assert r.status_code == 422
    assert api.post("/api/v1/people/batch", json={"people": []}).status_code == 422


def test_cursor_pagination_with_link_header(api):
    for i in range(7):
        api.post("/api/v1/people", json={"external_id": f"p{i}"})
    seen, url = [], "/api/v1/people?limit=3"
    while url:
        r = api.get(url)
        assert r.status_code == 200
        seen += [p["external_id"] for p in r.json["items"]]
        if r.json["next_cursor"]:
            link = r.headers["Link"]
            assert 'rel="next"' in link
            q = parse_qs(urlparse(link[1 : link.index(">")]).query)
            assert q["cursor"] == [r.json["next_cursor"]] and q["limit"] == ["3"]
            url = f"/api/v1/people?limit=3&cursor={r.json['next_cursor']}"
        else:
            assert "Link" not in r.headers
            url = None
    assert seen == [f"p{i}" for i in range(7)]


def test_link_header_never_reflects_a_forged_host(api):
    for i in range(3):
        api.post("/api/v1/people", json={"external_id": f"p{i}"})
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    r = api.get("/api/v1/people?limit=2", headers=forged)
    link = r.headers["Link"]
    assert "evil" not in link
    assert link.startswith("<http://flywheel.test/api/v1/people?limit=2&cursor=")
    next_page = api.get(link[1 : link.index(">")].removeprefix("http://flywheel.test"))
    assert [p["external_id"] for p in next_page.json["items"]] == ["p2"]


def test_bad_cursor_and_limit(api):
    assert api.get("/api/v1/people?cursor=garbage!").status_code == 422
    assert api.get("/api/v1/people?limit=1001").status_code == 422
    assert api.get("/api/v1/people?limit=0").status_code == 422


def test_patch_and_delete_erases_everything(api):
    survey = api.post("/api/v1/surveys", json={"name": "Q"}).json
    pid = api.post("/api/v1/people", json={"external_id": "gone"}).json["id"]
    r = api.post(
        "/api/v1/responses",
        json={"survey_id": survey["id"], "person": {"id": pid}, "score": 3, "comment": "bye"},
    )
    assert r.status_code == 201
    assert api.patch(f"/api/v1/people/{pid}", json={"name": "G"}).json["name"] == "G"
    assert api.delete(f"/api/v1/people/{pid}").status_code == 204
    assert api.get(f"/api/v1/people/{pid}").status_code == 404
    assert api.get(f"/api/v1/responses/{r.json['id']}").status_code == 404
    assert api.get("/api/v1/responses").json["items"] == []
    assert api.get("/api/v1/metrics/nps").json["overall"]["responses"] == 0


def test_other_projects_people_are_invisible(api, other_api):
    pid = api.post("/api/v1/people", json={"external_id": "mine"}).json["id"]
    assert other_api.get(f"/api/v1/people/{pid}").status_code == 404
    assert other_api.patch(f"/api/v1/people/{pid}", json={"name": "x"}).status_code == 404
    assert other_api.delete(f"/api/v1/people/{pid}").status_code == 404
    assert other_api.get("/api/v1/people").json["items"] == []
    # the same external_id in another project is another person
    r = other_api.post("/api/v1/people", json={"external_id": "mine"})
    assert r.status_code == 201 and r.json["id"] != pid


@pytest.mark.parametrize("trusted", [True, False])
def test_a_hot_path_person_row_is_what_the_orm_route_would_write(app, project, trusted):
    """`insert_person_row` applies the person rules to a plain namespace; its values must be
    those of the transient `Person` that `create_person` inserts, every column."""
    data = {
        "external_id": f"u-{trusted}",
        "email": " Ann@Example.COM ",
        "name": "Ann",
        "locale": "de",
        "created_at": datetime(2020, 1, 2, 3, 4, tzinfo=UTC),
        "properties": {"plan": "pro"},
    }
    now = datetime(2026, 1, 1)
    with app.app_context():
        project_id = db().scalar(select(Project.id))
        row = people.insert_person_row(db(), project_id, data, trusted=trusted, now=now)
        fresh = people._fresh(project_id, data, trusted)
        expected = {c.key: getattr(fresh, c.key) for c in Person.__table__.columns}
        expected.update(id=row["id"], added_at=now, updated_at=now, anonymous=False)
        expected["trusted"] = bool(expected["trusted"])
        assert row == expected
        stored = db().get(Person, row["id"])
        assert {c.key: getattr(stored, c.key) for c in Person.__table__.columns} == expected
        db().rollback()
