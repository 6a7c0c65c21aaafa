"""CORS per project `allowed_origins` (with preflight), and what the publishable key may do."""

import pytest

from tests.widget.conftest import Widget

APP = "https://app.example.com"


@pytest.fixture
def allowed(api, survey):
    r = api.patch("/api/v1/project", json={"allowed_origins": ["https://App.Example.com/"]})
    assert r.json["allowed_origins"] == [APP]


def test_allowed_origin_gets_the_header(allowed, client, project):
    r = Widget.of(client, project, origin=APP).customer()
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert "Origin" in r.headers["Vary"]


def test_errors_are_readable_by_an_allowed_origin(allowed, client, project):
    r = Widget.of(client, project, origin=APP).visit(anonymous_id="x")
    assert r.status_code == 422 and r.headers["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://app.example.com", "https://app.example.com:8443"]
)
def test_other_origin_is_refused(allowed, client, project, api, origin):
    r = Widget.of(client, project, origin=origin).customer()
    assert r.status_code == 403 and r.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in r.headers
    # Refused before anything happened: no person was created.
    assert api.get("/api/v1/people").json["items"] == []


def test_no_origin_configured_refuses_browsers(client, project, survey):
    r = Widget.of(client, project, origin=APP).customer()
    assert r.status_code == 403


def test_server_calls_without_origin_need_no_cors(client, project, survey):
    r = Widget.of(client, project).customer()
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_preflight_of_an_allowed_origin(allowed, client, project):
    r = client.options(
        f"/w/v1/visits?key={project.publishable_key}",
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]
    assert int(r.headers["Access-Control-Max-Age"]) > 0


def test_preflight_of_another_origin(allowed, client, project):
    r = client.options(
        f"/w/v1/responses?key={project.publishable_key}",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers


def test_preflight_without_a_valid_key(allowed, client):
    r = client.options(
        "/w/v1/visits?key=fw_pk_nope",
        headers={"Origin": APP, "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 401 and "Access-Control-Allow-Origin" not in r.headers


def test_origins_changed_through_the_api_apply(app, api, client, project, survey):
    app.extensions["flywheel.caches"]["widget_keys"].ttl = 0
    caller = Widget.of(client, project, origin=APP)
    assert caller.customer().status_code == 403
    api.patch("/api/v1/project", json={"allowed_origins": [APP]})
    assert caller.customer().status_code == 200


@pytest.mark.parametrize("path", ["visits", "responses", "dismissals", "feedback"])
@pytest.mark.parametrize("key", ["", "fw_pk_wrong", "SECRET"])
def test_widget_needs_the_publishable_key(client, project, path, key):
    key = project.secret_key if key == "SECRET" else key
    r = Widget(client, key).post(path, {"anonymous_id": "anon-visitor-1"})
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("query", ["key={key}&v=2", "v=2&key={key}", "key=%20{key}%20"])
def test_key_among_other_query_parameters(client, project, survey, query):
    url = "/w/v1/visits?" + query.format(key=project.publishable_key)
    r = client.post(url, json={"anonymous_id": "anon-visitor-1"})
    assert r.status_code == 200, r.json


def test_a_key_followed_by_more_text_is_not_that_key(client, project, survey):
    r = client.post(
        f"/w/v1/visits?key={project.publishable_key}x", json={"anonymous_id": "anon-visitor-1"}
    )
    assert r.status_code == 401


def test_key_header_works_for_servers(client, project, survey):
    r = client.post(
        "/w/v1/visits",
        json={"anonymous_id": "anon-visitor-1"},
        headers={"X-Flywheel-Key": project.publishable_key},
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/project"),
        ("patch", "/api/v1/project"),
        ("get", "/api/v1/people"),
        ("post", "/api/v1/people"),
        ("get", "/api/v1/surveys"),
        ("post", "/api/v1/responses"),
        ("get", "/api/v1/responses"),
        ("get", "/api/v1/metrics/nps"),
    ],
)
def test_publishable_key_is_refused_by_the_api(client, project, method, path):
    r = getattr(client, method)(
        path, json={}, headers={"Authorization": f"Bearer {project.publishable_key}"}
    )
    assert r.status_code == 401


def test_rotated_key_stops_working(app, client, project, survey):
    from service.db import db
    from surveys.projects import rotate_keys

    app.extensions["flywheel.caches"]["widget_keys"].ttl = 0
    with app.app_context():
        rotate_keys(db(), project.id)
        db().commit()
    assert Widget.of(client, project).customer().status_code == 401
