"""Alert test fixtures: a real HTTP receiver on loopback that records what is posted to it,
an app allowed to post there and mailing the SMTP sink, and helpers to answer and run the
alerts pass at a given time."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service.db import db
from service.worker.alerts import run_alerts
from tests.conftest import Api, make_project
from tests.email.conftest import email_app, smtp_sink  # noqa: F401  (a fixture)


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class Receiver:
    """Answers each POST with the next status of `statuses` (200 once they run out)."""

    posts: list[Posted] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            state.posts.append(Posted(self.path, dict(self.headers), json.loads(raw)))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"invalid_payload")

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def alert_app(database_url, tmp_path, smtp_sink):  # noqa: F811
    app = email_app(database_url, tmp_path / "var", smtp_sink.url, WEBHOOK_ALLOW_PRIVATE="1")
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def alert_api(alert_app) -> Api:
    return Api(alert_app.test_client(), make_project(alert_app))


def run_pass(app, now: datetime) -> int:
    with app.app_context():
        return run_alerts(db(), app.config["FLYWHEEL"], now, worker="test")


def make_survey(api: Api) -> int:
    resp = api.post("/api/v1/surveys", json={"name": "Quarterly NPS"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def answer(api: Api, survey_id: int, who: str, score: int, **extra) -> dict:
    body = {"survey_id": survey_id, "person": {"external_id": who}, "score": score, **extra}
    resp = api.post("/api/v1/responses", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def add_rule(api: Api, expect: int = 201, **fields) -> dict:
    body = {"name": "Detractors", "kind": "detractor", **fields}
    resp = api.post("/api/v1/alert-rules", json=body)
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()
