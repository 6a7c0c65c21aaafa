"""Tags, notes and follow-ups through the API: rules, errors and tenant isolation."""

from __future__ import annotations

from tests.loop.triage.conftest import answer


def test_tags_crud_and_on_responses(api, survey_id):
    r = api.post("/api/v1/tags", json={"name": "  billing  "})
    assert r.status_code == 201 and r.json["name"] == "billing" and r.json["uses"] == 0
    billing = r.json["id"]
    assert api.post("/api/v1/tags", json={"name": "BILLING"}).status_code == 409
    assert api.post("/api/v1/tags", json={"name": ""}).status_code == 422
    onboarding = api.post("/api/v1/tags", json={"name": "onboarding"}).json["id"]
    resp = answer(api, survey_id, "p1", 3)
    for _ in range(2):  # idempotent
        r = api.put(f"/api/v1/responses/{resp['id']}/tags/{billing}")
        assert r.status_code == 200, r.json
    r = api.put(f"/api/v1/responses/{resp['id']}/tags/{onboarding}")
    assert [t["name"] for t in r.json["tags"]] == ["billing", "onboarding"]
    tags = api.get("/api/v1/tags").json["items"]
    assert [(t["name"], t["uses"]) for t in tags] == [("billing", 1), ("onboarding", 1)]
    r = api.patch(f"/api/v1/tags/{billing}", json={"name": "invoices"})
    assert r.status_code == 200 and r.json["uses"] == 1
    assert api.get(f"/api/v1/tags/{billing}").json["name"] == "invoices"
    listed = api.get(f"/api/v1/responses?tag_id={billing}").json["items"]
    assert [x["id"] for x in listed] == [resp["id"]]
    assert api.delete(f"/api/v1/responses/{resp['id']}/tags/{billing}").status_code == 204
    assert api.get(f"/api/v1/responses?tag_id={billing}").json["items"] == []
    assert api.delete(f"/api/v1/tags/{onboarding}").status_code == 204
    assert api.get(f"/api/v1/tags/{onboarding}").status_code == 404
    assert api.put(f"/api/v1/responses/{resp['id']}/tags/999").status_code == 404


def test_another_projects_tags_and_responses_are_404(api, other_api, survey_id):
    tag = api.post("/api/v1/tags", json={"name": "billing"}).json["id"]
    resp = answer(api, survey_id, "p1", 3)
    other_tag = other_api.post("/api/v1/tags", json={"name": "billing"}).json["id"]
    assert other_api.get(f"/api/v1/tags/{tag}").status_code == 404
    assert other_api.put(f"/api/v1/responses/{resp['id']}/tags/{other_tag}").status_code == 404
    assert api.put(f"/api/v1/responses/{resp['id']}/tags/{other_tag}").status_code == 404
    assert other_api.get(f"/api/v1/responses/{resp['id']}/notes").status_code == 404
    assert other_api.get(f"/api/v1/responses/{resp['id']}/follow-up").status_code == 404


def test_notes_only_the_author_deletes(api, survey_id, ana, ben):
    resp = answer(api, survey_id, "p1", 2)
    url = f"/api/v1/responses/{resp['id']}/notes"
    r = api.post(url, json={"text": "Called, left a voicemail", "author_email": "ANA@acme.test"})
    assert r.status_code == 201, r.json
    note = r.json
    assert note["author_email"] == "ana@acme.test"
    r = api.post(url, json={"text": "hi", "author_email": "stranger@else.test"})
    assert r.status_code == 422 and "author_email" in r.json["error"]["details"]
    assert api.post(url, json={"text": "  ", "author_email": "ana@acme.test"}).status_code == 422
    assert [n["text"] for n in api.get(url).json["items"]] == ["Called, left a voicemail"]
    r = api.delete(f"/api/v1/notes/{note['id']}?author_email=ben@acme.test")
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert api.delete(f"/api/v1/notes/{note['id']}").status_code == 422
    assert api.delete(f"/api/v1/notes/{note['id']}?author_email=ana@acme.test").status_code == 204
    assert api.get(url).json["items"] == []
    assert api.delete(f"/api/v1/notes/{note['id']}?author_email=ana@acme.test").status_code == 404


def test_follow_up_lifecycle_sla_and_filters(api, survey_id, ana):
    r = api.patch(
        "/api/v1/follow-up-settings", json={"sla_hours": {"detractor": 24, "passive": 72}}
    )
    assert r.status_code == 200, r.json
    assert r.json["sla_hours"] == {"detractor": 24, "passive": 72}
    detractor = answer(api, survey_id, "p1", 4)
    passive = answer(api, survey_id, "p2", 8)
    url = f"/api/v1/responses/{detractor['id']}/follow-up"
    assert api.get(url).status_code == 404
    r = api.patch(url, json={"owner_email": "ana@acme.test"})
    assert r.status_code == 200, r.json
    f = r.json
    assert f["status"] == "new" and f["owner_email"] == "ana@acme.test" and f["source"] == "manual"
    assert f["overdue"] is False and f["due_at"] is not None
    assert api.patch(url, json={"status": "resolved"}).status_code == 422  # no reason
    assert api.patch(url, json={"owner_email": "x@else.test"}).status_code == 422
    r = api.patch(url, json={"status": "contacted"})
    assert r.json["status"] == "contacted" and r.json["contacted_at"]
    r = api.patch(url, json={"status": "resolved", "reason": "Refunded the double charge"})
    assert r.json["status"] == "resolved" and r.json["reason"] == "Refunded the double charge"
    assert api.get(url).json["resolved_at"]
    # An overdue one: due in the past, not resolved.
    purl = f"/api/v1/responses/{passive['id']}/follow-up"
    r = api.patch(purl, json={"due_at": "2020-01-01T00:00:00Z"})
    assert r.json["overdue"] is True
    ids = lambda q: [x["id"] for x in api.get(f"/api/v1/responses?{q}").json["items"]]  # noqa: E731
    assert ids("status=resolved") == [detractor["id"]]
    assert ids("status=new") == [passive["id"]]
    assert ids("overdue=true") == [passive["id"]]
    assert ids("owner=ana@acme.test") == [detractor["id"]]
    third = answer(api, survey_id, "p3", 10)
    assert ids("status=none") == [third["id"]]
    # Metrics take the same filters: only the resolved detractor.
    m = api.get(f"/api/v1/metrics/nps?survey_id={survey_id}&status=resolved").json
    assert m["overall"]["detractors"] == 1 and m["overall"]["responses"] == 1
    # Reopening drops the reason.
    r = api.patch(url, json={"status": "new"})
    assert r.json["reason"] is None and r.json["resolved_at"] is None


def test_settings_validation(api):
    s = api.get("/api/v1/follow-up-settings").json
    assert s == {"enabled": False, "sla_hours": {"detractor": 48}, "owner_property": None}
    assert (
        api.patch("/api/v1/follow-up-settings", json={"sla_hours": {"detractor": 0}}).status_code
        == 422
    )
    assert (
        api.patch("/api/v1/follow-up-settings", json={"sla_hours": {"nobody": 3}}).status_code
        == 422
    )
    r = api.patch(
        "/api/v1/follow-up-settings", json={"enabled": True, "owner_property": "account_owner"}
    )
    assert r.json["enabled"] is True and r.json["owner_property"] == "account_owner"


def test_exports_take_the_triage_filters(api, survey_id, ana):
    """The export joins the follow-up itself: its filters must still pick the right rows."""
    import csv
    import io

    tag = api.post("/api/v1/tags", json={"name": "billing"}).json["id"]
    a, b, c = (
        answer(api, survey_id, "a", 2),
        answer(api, survey_id, "b", 5),
        answer(api, survey_id, "c", 9),
    )
    api.put(f"/api/v1/responses/{a['id']}/tags/{tag}")
    api.patch(
        f"/api/v1/responses/{a['id']}/follow-up",
        json={"owner_email": "ana@acme.test", "due_at": "2020-01-01T00:00:00Z"},
    )
    api.patch(f"/api/v1/responses/{b['id']}/follow-up", json={"status": "resolved", "reason": "ok"})

    def exported(query):
        r = api.get(f"/api/v1/export/responses?format=csv&{query}")
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
        return [int(row["response_id"]) for row in rows], rows

    assert exported("status=none")[0] == [c["id"]]
    assert exported("status=resolved")[0] == [b["id"]]
    assert exported("owner=ana@acme.test&overdue=true")[0] == [a["id"]]
    ids, rows = exported(f"tag_id={tag}")
    assert ids == [a["id"]]
    assert rows[0]["tags"] == "billing" and rows[0]["follow_up_owner"] == "ana@acme.test"
    assert rows[0]["follow_up_status"] == "new" and rows[0]["follow_up_due_at"].startswith("2020")
    m = api.get(f"/api/v1/export/metrics?survey_id={survey_id}&status=none")
    assert m.status_code == 200


def test_a_note_on_another_projects_response_is_404_whatever_the_body(
    api, other_api, survey_id, ana
):
    resp = answer(api, survey_id, "p1", 2)
    url = f"/api/v1/responses/{resp['id']}/notes"
    bodies = [
        {},
        {"text": "hi"},
        {"author_email": "not an address"},
        {"text": "", "author_email": "ana@acme.test"},
        {"text": "x" * 10_001, "author_email": "ana@acme.test"},
        {"text": "hi", "author_email": "ana@acme.test", "extra": 1},
    ]
    for body in bodies:
        # Another project's response, or none: 404 before the body is read.
        assert other_api.post(url, json=body).status_code == 404, body
        assert api.post("/api/v1/responses/999999/notes", json=body).status_code == 404, body
        # The project's own: the body's problem, naming the field.
        mine = api.post(url, json=body)
        assert mine.status_code == 422, body
        assert mine.json["error"]["code"] == "invalid"
    missing = api.post(url, json={"author_email": "ana@acme.test"}).json["error"]
    assert "text" in missing["details"]["json"]
    assert other_api.post(url, data="{", content_type="application/json").status_code == 404
    assert api.get(url).json["items"] == []
    spec = api.get("/api/openapi.json").json
    body = spec["paths"]["/api/v1/responses/{response_id}/notes"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NoteCreate"
    }
    documented = spec["components"]["schemas"]["NoteCreate"]
    assert set(documented["required"]) == {"text", "author_email"}
