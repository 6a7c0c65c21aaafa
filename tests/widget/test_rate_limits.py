"""Rate limits per IP and per key on `/w/v1`, a default on `/api/v1`: 429 in the JSON envelope
with Retry-After. Against memory storage, and a real Redis when TEST_REDIS_URL is set."""

from __future__ import annotations

import os
import uuid

import pytest

from service.factory import create_app
from tests.conftest import TEST_SECRET, make_project
from tests.widget.conftest import Widget

REDIS_URL = os.environ.get("TEST_REDIS_URL")
STORAGES = ["memory"] + (["redis"] if REDIS_URL else [])


@pytest.fixture(params=STORAGES)
def limited_app(request, database_url, tmp_path):
    overrides = {
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": TEST_SECRET,
    }
    if request.param == "redis":
        overrides["REDIS_URL"] = REDIS_URL
    app = create_app(overrides)
    app.config.update(
        RATE_LIMIT_WIDGET_IP="3/minute", RATE_LIMIT_WIDGET_KEY="5/minute", RATE_LIMIT_API="4/minute"
    )
    yield app
    app.extensions["db_engine"].dispose()


def random_ip() -> str:
    # Counters in a shared Redis outlive the test: a fresh address per test keeps them apart.
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def assert_limited(r) -> None:
    assert r.status_code == 429
    assert r.json["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60


def test_per_ip(limited_app):
    keys = make_project(limited_app)
    client = limited_app.test_client()
    caller = Widget(client, keys.publishable_key, ip=random_ip())
    for _ in range(3):
        assert caller.visit(anonymous_id="anon-visitor-1").status_code == 200
    assert_limited(caller.visit(anonymous_id="anon-visitor-1"))
    assert_limited(caller.post("dismissals", {"display_token": "x"}))
    # Another address is not affected.
    other = Widget(client, keys.publishable_key, ip=random_ip())
    assert other.visit(anonymous_id="anon-visitor-1").status_code == 200


def test_per_key(limited_app):
    keys = make_project(limited_app)
    client = limited_app.test_client()
    for _ in range(5):
        r = Widget(client, keys.publishable_key, ip=random_ip()).visit(anonymous_id="anon-1234")
        assert r.status_code == 200
    assert_limited(Widget(client, keys.publishable_key, ip=random_ip()).visit(anonymous_id="a" * 8))
    other = make_project(limited_app, "Other")
    r = Widget(client, other.publishable_key, ip=random_ip()).visit(anonymous_id="anon-1234")
    assert r.status_code == 200


def test_429_is_readable_by_an_allowed_origin(limited_app):
    keys = make_project(limited_app)
    client = limited_app.test_client()
    client.patch(
        "/api/v1/project",
        json={"allowed_origins": ["https://app.example.com"]},
        headers={"Authorization": f"Bearer {keys.secret_key}"},
    )
    caller = Widget(client, keys.publishable_key, origin="https://app.example.com", ip=random_ip())
    for _ in range(3):
        caller.visit(anonymous_id="anon-visitor-1")
    r = caller.visit(anonymous_id="anon-visitor-1")
    assert_limited(r)
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_preflights_and_the_script_are_not_counted(limited_app):
    keys = make_project(limited_app)
    client = limited_app.test_client()
    ip = {"REMOTE_ADDR": random_ip()}
    for _ in range(10):
        assert client.get("/widget.js", environ_base=ip).status_code == 200
        client.options(f"/w/v1/visits?key={keys.publishable_key}", environ_base=ip)
    assert (
        Widget(client, keys.publishable_key, ip=ip["REMOTE_ADDR"])
        .visit(anonymous_id="anon-visitor-1")
        .status_code
        == 200
    )


def test_api_default_limit(limited_app):
    keys = make_project(limited_app)
    client = limited_app.test_client()
    ip = {"REMOTE_ADDR": random_ip()}
    for _ in range(4):
        r = client.get("/api/v1/project", headers=keys_auth(keys), environ_base=ip)
        assert r.status_code == 200
    assert_limited(client.get("/api/v1/project", headers=keys_auth(keys), environ_base=ip))
    assert client.get("/healthz", environ_base=ip).status_code == 200


def keys_auth(keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.secret_key}"}


def test_limits_are_shared_between_nodes_with_redis(limited_app, database_url, tmp_path):
    """Two apps (two gunicorn nodes) count together when they share a Redis; with memory
    storage each node counts alone."""
    keys = make_project(limited_app)
    second = create_app(
        {
            "DATABASE_URL": database_url,
            "VAR_DIR": str(tmp_path / "var2"),
            "SECRET_KEY": TEST_SECRET,
            **({"REDIS_URL": REDIS_URL} if limited_app.config["FLYWHEEL"].redis_url else {}),
        }
    )
    second.config.update(RATE_LIMIT_WIDGET_IP="3/minute")
    ip = random_ip()
    nodes = [Widget(a.test_client(), keys.publishable_key, ip=ip) for a in (limited_app, second)]
    statuses = [nodes[i % 2].visit(anonymous_id="anon-visitor-1").status_code for i in range(4)]
    shared = limited_app.config["FLYWHEEL"].redis_url is not None
    assert statuses == ([200, 200, 200, 429] if shared else [200, 200, 200, 200])
    second.extensions["db_engine"].dispose()
