"""Webhook fixtures: an app that may call loopback, a real HTTP receiver on loopback that
verifies every signature with the `standardwebhooks` reference library, and the SMTP sink."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from service.db import db
from tests.conftest import Api, make_project
from tests.email.conftest import email_app, smtp_sink  # noqa: F401 (a fixture)


@dataclass
class Call:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next scripted status (then `default`); `secret` is set by
    the test once the webhook is made. `hang` holds requests until `release` is set."""

    port: int = 0
    secret: str | None = None
    script: list[int] = field(default_factory=list)
    default: int = 200
    delay: float = 0.0
    calls: list[Call] = field(default_factory=list)
    hang: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Verifier(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            status = self.script.pop(0) if self.script else self.default
            self.calls.append(Call(headers, body, self.verify(body, headers), status))
        return status

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.calls


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # The status line and body go in separate writes: without this, Nagle's
            # algorithm and the client's delayed ACK add 40 ms to every answer.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if receiver.hang:
                receiver.arrived.set()
                receiver.release.wait(30)
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer(body, headers)
            try:
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                # The caller is gone (a killed worker): nothing to answer.
                self.close_connection = True

        def log_message(self, *_args):
            return None

    return Handler


@pytest.fixture
def receiver():
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    found.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook_app(database_url, tmp_path, smtp_sink):  # noqa: F811
    app = email_app(
        database_url,
        tmp_path / "var",
        smtp_sink.url,
        WEBHOOK_ALLOW_PRIVATE="1",
        WEBHOOK_TIMEOUT_SECONDS="1",
    )
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def hook_api(hook_app) -> Api:
    return Api(hook_app.test_client(), make_project(hook_app))


def make_webhook(api: Api, receiver: Receiver, **fields) -> dict:
    body = {"url": receiver.url, "events": ["response.created"], **fields}
    resp = api.post("/api/v1/webhooks", json=body)
    assert resp.status_code == 201, resp.get_json()
    made = resp.get_json()
    receiver.secret = made["secret"]
    return made


def deliver(app, now=None) -> int:
    from service.worker.webhooks import deliver_pass

    with app.app_context():
        try:
            return deliver_pass(app, now)
        finally:
            db().close()
