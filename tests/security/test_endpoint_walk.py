"""Walk every route of the app: keys, tenants and error envelopes hold on each one.

New routes are picked up automatically; a route whose ids this walk cannot map to an object
fails `test_every_id_route_is_mapped`, so nothing escapes the isolation check.
"""

from __future__ import annotations

import re

import pytest

from surveys.accounts.roles import Role
from tests.app.conftest import add_user

API = "/api/v1"
# Which object a path segment before an <int:...> names, and how the owner creates one.
OBJECTS = {
    "people": "person",
    "surveys": "survey",
    "responses": "response",
    "invitations": "invitation",
    "runs": "run",
    "themes": "theme",
    "webhooks": "webhook",
    "deliveries": "delivery",
    "alert-rules": "alert_rule",
    "tags": "tag",
    "notes": "note",
}


def api_routes(app) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule))
    return sorted(out)


def fill(rule: str, ids: dict[str, int]) -> str:
    def repl(match: re.Match) -> str:
        before = rule[: match.start()].rstrip("/").split("/")[-1]
        return str(ids.get(OBJECTS.get(before, ""), 1))

    return re.sub(r"<(?:int:)?[a-z_]+>", repl, rule)


def owned_objects(api) -> dict[str, int]:
    """One object of each kind in the owner's project."""
    survey = api.post(f"{API}/surveys", json={"name": "Owned"}).json["id"]
    person = api.post(f"{API}/people", json={"external_id": "owned", "email": "o@example.com"})
    response = api.post(
        f"{API}/responses",
        json={"survey_id": survey, "person": {"external_id": "owned"}, "score": 3},
    ).json["id"]
    # A public address (a literal, so no lookup): the default app refuses private targets.
    hook = api.post(
        f"{API}/webhooks",
        json={"url": "https://93.184.215.14/hook", "events": ["response.created"]},
    ).json["id"]
    delivery = api.post(f"{API}/webhooks/{hook}/test").json["id"]
    alert_rule = api.post(
        f"{API}/alert-rules",
        json={"name": "Owned", "kind": "detractor", "destination": "email", "emails": ["o@a.test"]},
    ).json["id"]
    tag = api.post(f"{API}/tags", json={"name": "owned"}).json["id"]
    add_user(api.client.application, api.keys.id, "member@owned.test", Role.EDITOR, None)
    note = api.post(
        f"{API}/responses/{response}/notes",
        json={"text": "owned", "author_email": "member@owned.test"},
    ).json["id"]
    return {
        "survey": survey,
        "person": person.json["id"],
        "response": response,
        "webhook": hook,
        "delivery": delivery,
        "alert_rule": alert_rule,
        "tag": tag,
        "note": note,
    }


def test_api_has_routes(app):
    assert len(api_routes(app)) >= 10


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic abc", "Bearer "])
def test_every_api_route_refuses_missing_or_wrong_keys(app, client, project, auth):
    for method, rule in api_routes(app):
        headers = {"Authorization": auth} if auth else {}
        r = client.open(fill(rule, {}), method=method, headers=headers, json={})
        assert r.status_code == 401, (method, rule, r.status_code)
        assert r.json["error"]["code"] == "unauthorized"


def test_every_api_route_refuses_the_publishable_key(app, client, project):
    headers = {"Authorization": f"Bearer {project.publishable_key}"}
    for method, rule in api_routes(app):
        r = client.open(fill(rule, {}), method=method, headers=headers, json={})
        assert r.status_code == 401, (method, rule)


def test_every_id_route_is_mapped(app):
    for _method, rule in api_routes(app):
        for match in re.finditer(r"<(?:int:)?[a-z_]+>", rule):
            before = rule[: match.start()].rstrip("/").split("/")[-1]
            assert before in OBJECTS, f"{rule}: add '{before}' to OBJECTS"


def test_other_projects_objects_are_404_on_every_route(app, api, other_api):
    ids = owned_objects(api)
    checked = 0
    for method, rule in api_routes(app):
        if "<" not in rule:
            continue
        kinds = {
            OBJECTS[rule[: m.start()].rstrip("/").split("/")[-1]]
            for m in re.finditer(r"<(?:int:)?[a-z_]+>", rule)
        }
        if not kinds <= ids.keys():
            continue  # objects this walk does not create (their own suites check them)
        r = other_api.open(fill(rule, ids), method=method, json={})
        assert r.status_code == 404, (method, rule, r.status_code, r.json)
        assert r.json["error"]["code"] == "not_found"
        assert str(ids["person"]) not in (r.json["error"].get("details") or {}).values()
        checked += 1
    assert checked >= 6
    # and the owner's objects are intact afterwards
    assert api.get(f"{API}/responses/{ids['response']}").json["score"] == 3
    assert api.get(f"{API}/people/{ids['person']}").status_code == 200


def test_lists_never_show_another_projects_rows(app, api, other_api):
    owned_objects(api)
    for method, rule in api_routes(app):
        if method != "GET" or "<" in rule:
            continue
        r = other_api.get(rule)
        if r.status_code == 200 and isinstance(r.json, dict) and "items" in r.json:
            assert r.json["items"] == [], rule


def test_another_projects_survey_id_is_404_on_every_report(app, client, api, other_api):
    """Reports and exports about a survey answer 404 for another project's survey, as its own
    routes do. Lists (a cursor, an optional `survey_id`) only filter by it: they answer an
    empty page, like any filter that matches nothing."""
    theirs = other_api.post(f"{API}/surveys", json={"name": "Theirs"}).json["id"]
    r = other_api.post(
        f"{API}/responses",
        json={"survey_id": theirs, "person": {"external_id": "them"}, "score": 9},
    )
    assert r.status_code == 201
    spec = client.get("/api/openapi.json").json
    checked = []
    for path, operations in spec["paths"].items():
        operation = operations.get("get")
        if not isinstance(operation, dict):
            continue
        query = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        if "survey_id" not in query:
            continue
        if "cursor" in query and not query["survey_id"].get("required"):
            continue
        r = api.get(f"{path}?survey_id={theirs}")
        assert r.status_code == 404, (path, r.status_code, r.get_data(as_text=True)[:200])
        assert r.json["error"]["code"] == "not_found"
        checked.append(path)
    assert len(checked) >= 6, checked
