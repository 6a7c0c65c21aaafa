"""The webhooks API: the secret shown once, filters, SSRF refusals, tenant isolation, and
the event outbox written only when someone listens."""

from __future__ import annotations

from sqlalchemy import func, select

from service.db import db
from surveys.models import Event, Project, Webhook
from surveys.sealed import is_sealed
from tests.loop.webhooks.conftest import make_webhook


def _events(app) -> list[Event]:
    with app.app_context():
        rows = list(db().scalars(select(Event).order_by(Event.id)))
        db().close()
        return rows


def _survey(api) -> dict:
    resp = api.post("/api/v1/surveys", json={"name": "Q"})
    assert resp.status_code == 201
    return resp.get_json()


def test_create_shows_the_secret_once_and_stores_it_sealed(hook_app, hook_api, receiver):
    made = make_webhook(hook_api, receiver, description="CRM sync")
    assert made["secret"].startswith("whsec_") and made["active"] is True
    assert made["events"] == ["response.created"]
    listed = hook_api.get("/api/v1/webhooks").get_json()["items"]
    assert [w["id"] for w in listed] == [made["id"]]
    one = hook_api.get(f"/api/v1/webhooks/{made['id']}").get_json()
    assert "secret" not in one and "secret" not in listed[0]
    with hook_app.app_context():
        stored = db().get(Webhook, made["id"]).secret
        assert is_sealed(stored) and made["secret"] not in stored
        assert db().get(Project, hook_api.keys.id).events_wanted == ["response.created"]


def test_rotate_gives_a_new_secret(hook_api, receiver):
    made = make_webhook(hook_api, receiver)
    rotated = hook_api.post(f"/api/v1/webhooks/{made['id']}/rotate-secret").get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]


def test_patch_and_delete_keep_the_wanted_events(hook_app, hook_api, receiver):
    made = make_webhook(hook_api, receiver)
    resp = hook_api.patch(
        f"/api/v1/webhooks/{made['id']}",
        json={"events": ["unsubscribe.created", "response.updated"], "score_max": 6},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["score_max"] == 6
    with hook_app.app_context():
        wanted = db().get(Project, hook_api.keys.id).events_wanted
        assert wanted == ["response.updated", "unsubscribe.created"]
    hook_api.patch(f"/api/v1/webhooks/{made['id']}", json={"active": False})
    with hook_app.app_context():
        assert db().get(Project, hook_api.keys.id).events_wanted == []
    assert hook_api.delete(f"/api/v1/webhooks/{made['id']}").status_code == 204
    assert hook_api.get(f"/api/v1/webhooks/{made['id']}").status_code == 404


def test_bad_input_is_422_with_the_field(hook_api, receiver):
    cases = [
        {"url": receiver.url, "events": ["response.deleted"]},
        {"url": receiver.url, "events": []},
        {"url": "ftp://example.com/x", "events": ["response.created"]},
        {"url": receiver.url, "events": ["response.created"], "score_min": 9, "score_max": 3},
        {"url": receiver.url, "events": ["response.created"], "segment": "fan"},
        {"events": ["response.created"]},
    ]
    for body in cases:
        resp = hook_api.post("/api/v1/webhooks", json=body)
        assert resp.status_code == 422, (body, resp.get_json())
        assert resp.get_json()["error"]["code"] == "invalid"


def test_private_targets_are_refused_unless_allowed(api):
    """The default app (no WEBHOOK_ALLOW_PRIVATE) refuses loopback, private, link-local."""
    for url in (
        "http://127.0.0.1:9/hooks",
        "http://10.0.0.5/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://localhost/hooks",
    ):
        resp = api.post("/api/v1/webhooks", json={"url": url, "events": ["response.created"]})
        assert resp.status_code == 422, url
        error = resp.get_json()["error"]
        assert error["message"] == "url points to a private, loopback or link-local address"
        assert error["details"]["url"] == url
    made = api.post(
        "/api/v1/webhooks", json={"url": "http://93.184.215.14/h", "events": ["response.created"]}
    )
    assert made.status_code == 201
    resp = api.patch(f"/api/v1/webhooks/{made.get_json()['id']}", json={"url": "http://10.1.1.1/"})
    assert resp.status_code == 422


def test_another_projects_webhook_is_404(hook_app, hook_api, receiver):
    from tests.conftest import Api, make_project

    made = make_webhook(hook_api, receiver)
    other = Api(hook_app.test_client(), make_project(hook_app, "Other"))
    base = f"/api/v1/webhooks/{made['id']}"
    assert other.get(base).status_code == 404
    assert other.patch(base, json={"active": False}).status_code == 404
    assert other.delete(base).status_code == 404
    assert other.post(f"{base}/rotate-secret").status_code == 404
    assert other.post(f"{base}/test").status_code == 404
    assert other.get(f"{base}/deliveries").status_code == 404
    assert other.get("/api/v1/webhooks").get_json()["items"] == []
    theirs = other.post("/api/v1/surveys", json={"name": "Theirs"}).get_json()["id"]
    body = {"url": receiver.url, "events": ["response.created"], "survey_id": theirs}
    assert hook_api.post("/api/v1/webhooks", json=body).status_code == 404
    assert hook_api.patch(base, json={"survey_id": theirs}).status_code == 404
    test = hook_api.post(f"{base}/test").get_json()
    assert other.post(f"{base}/deliveries/{test['id']}/redeliver").status_code == 404
    assert hook_api.get(f"{base}").status_code == 200


def test_no_listener_no_event_row(hook_app, hook_api, receiver):
    survey = _survey(hook_api)

    def answer(external_id: str, score: int) -> dict:
        body = {"survey_id": survey["id"], "person": {"external_id": external_id}, "score": score}
        resp = hook_api.post("/api/v1/responses", json=body)
        assert resp.status_code == 201
        return resp.get_json()

    answer("a", 9)
    assert _events(hook_app) == []
    made = make_webhook(hook_api, receiver, events=["theme_run.completed"])
    answer("b", 9)
    assert _events(hook_app) == []
    hook_api.patch(f"/api/v1/webhooks/{made['id']}", json={"events": ["response.created"]})
    second = answer("c", 3)
    rows = _events(hook_app)
    assert [(e.type, e.object_id) for e in rows] == [("response.created", second["id"])]
    with hook_app.app_context():
        assert db().scalar(select(func.count()).select_from(Event)) == 1
