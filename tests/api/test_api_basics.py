"""Auth, the error envelope, body limits and the OpenAPI description."""

import json


def test_no_key_is_401(client, project):
    r = client.get("/api/v1/project")
    assert r.status_code == 401
    assert r.json["error"]["code"] == "unauthorized"


def test_wrong_key_is_401(client, project):
    r = client.get("/api/v1/project", headers={"Authorization": "Bearer fw_sk_nope"})
    assert r.status_code == 401


def test_publishable_key_cannot_use_the_api(client, project):
    r = client.get(
        "/api/v1/project", headers={"Authorization": f"Bearer {project.publishable_key}"}
    )
    assert r.status_code == 401


def test_project_settings_read_and_patch(api):
    r = api.get("/api/v1/project")
    assert r.status_code == 200
    assert r.json["time_zone"] == "UTC"
    assert r.json["throttle_days"] == 30
    assert "secret_key_hash" not in r.json
    r = api.patch(
        "/api/v1/project",
        json={
            "time_zone": "Europe/Berlin",
            "throttle_days": 14,
            "allowed_origins": ["https://App.example.com/"],
            "require_identity_verification": True,
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["time_zone"] == "Europe/Berlin"
    assert r.json["allowed_origins"] == ["https://app.example.com"]
    assert api.get("/api/v1/project").json["require_identity_verification"] is True


def test_invalid_field_is_422_naming_the_field(api):
    r = api.patch("/api/v1/project", json={"time_zone": "Mars/Base"})
    assert r.status_code == 422
    assert r.json["error"]["code"] == "invalid"
    assert "time_zone" in r.json["error"]["message"]
    assert "time_zone" in r.json["error"]["details"]["json"]


def test_malformed_json_is_400(api):
    r = api.post("/api/v1/people", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json["error"]["code"] == "malformed_json"


def test_body_over_the_limit_is_413(api):
    r = api.post(
        "/api/v1/people",
        data='{"external_id": "' + "x" * (2 * 1024 * 1024) + '"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json["error"]["code"] == "too_large"


def test_unknown_route_and_method_are_json(api):
    r = api.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = api.put("/api/v1/project", json={})
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"


def test_openapi_and_offline_docs(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/people", "/api/v1/responses", "/api/v1/metrics/nps", "/api/v1/surveys"):
        assert path in spec["paths"]
    assert "adjusted-Wald" in spec["paths"]["/api/v1/metrics/nps"]["get"]["description"]
    assert "Error" in spec["components"]["schemas"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_json_answers_are_compact_in_field_order(api):
    r = api.get("/api/v1/project")
    body = r.get_data(as_text=True)
    assert r.mimetype == "application/json"
    # json.loads keeps the order it reads: the body is the compact form of itself.
    assert body == json.dumps(json.loads(body), separators=(",", ":")) + "\n"
    # Fields in the order the schema declares them, not sorted.
    assert list(r.json)[:2] == ["id", "name"]


def test_json_answers_are_indented_in_debug_mode(app, api):
    app.debug = True
    try:
        body = api.get("/api/v1/project").get_data(as_text=True)
    finally:
        app.debug = False
    assert body.startswith('{\n  "')
