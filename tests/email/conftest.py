"""Email test fixtures: a real SMTP server (aiosmtpd) in the test process, an app that sends
to it, and helpers to create surveys and people and run the worker passes at a given time."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import pytest
from aiosmtpd.controller import Controller

from service.db import db
from service.factory import create_app
from service.worker.dispatch import DispatchResult, dispatch
from surveys.clock import utcnow
from surveys.email import outbox
from tests.conftest import TEST_SECRET, Api, make_project


def _next_monday_10() -> datetime:
    # People get `added_at` = the real now, so the tests' "now" lies after it: a Monday.
    today = utcnow().date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, time(10, 0))


NOW = _next_monday_10()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage


@dataclass
class SmtpSink:
    """Accepts everything, except addresses told to refuse (code and text) at RCPT TO or after
    DATA, or to hang in DATA."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    refuse_data: dict[str, str] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    data_started: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.hang & set(envelope.rcpt_tos):
            self.data_started.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 released"
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.refuse_data:
                return self.refuse_data[rcpt]
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


@pytest.fixture
def smtp_sink():
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    sink.release.set()
    controller.stop()


def email_app(database_url: str, var_dir, smtp_url: str | None, **extra: str):
    overrides = {
        "DATABASE_URL": database_url,
        "VAR_DIR": str(var_dir),
        "SECRET_KEY": TEST_SECRET,
        "PUBLIC_URL": "http://flywheel.test",
        "MAIL_FROM": "Acme NPS <nps@acme.test>",
        **extra,
    }
    if smtp_url:
        overrides["SMTP_URL"] = smtp_url
    app = create_app(overrides)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def mail_app(database_url, tmp_path, smtp_sink):
    app = email_app(database_url, tmp_path / "var", smtp_sink.url)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def mail_api(mail_app):
    return Api(mail_app.test_client(), make_project(mail_app))


def create_survey(api: Api, **fields) -> dict:
    body = {
        "name": "Quarterly NPS",
        "product_name": "Acme",
        "channels": ["email"],
        "spread_days": 0,
        "send_window": None,
        **fields,
    }
    resp = api.post("/api/v1/surveys", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def create_person(api: Api, external_id: str, **fields) -> dict:
    body = {
        "external_id": external_id,
        "email": f"{external_id}@example.com",
        "created_at": "2025-01-01T00:00:00Z",
        **fields,
    }
    resp = api.post("/api/v1/people", json=body)
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()


def run_schedule(app, now: datetime = NOW) -> outbox.ScheduleResult:
    with app.app_context():
        result = outbox.schedule_due(db(), now)
        db().commit()
        return result


def run_dispatch(app, now: datetime = NOW) -> DispatchResult:
    with app.app_context():
        return dispatch(db(), app.config["FLYWHEEL"], clock=lambda: now)
