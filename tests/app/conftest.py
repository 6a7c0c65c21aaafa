"""Team-app fixtures: members with a password in a project, and a test client that signs in
through the form (reading the form token off the page, as a browser does)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from service.db import db
from surveys.accounts.roles import Role
from surveys.accounts.users import add_member, set_password
from tests.conftest import make_project
from tests.email.conftest import email_app, smtp_sink  # noqa: F401 (the real SMTP sink)
from tests.email.test_link_browser import browser  # noqa: F401 (headless Chromium)

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Member:
    id: int
    email: str
    password: str = PASSWORD


def add_user(app, project_id: int, email: str, role: Role, password: str | None = PASSWORD):
    with app.app_context():
        added = add_member(db(), project_id, email, role)
        if password is not None:
            set_password(db(), added.user, password)
        db().commit()
        return Member(added.user.id, added.user.email, password or "")


def form_token(page_text: str) -> str:
    found = _TOKEN.search(page_text)
    assert found, "the page has no form token"
    return found.group(1)


class TeamClient:
    """A test client of the team app: `post` sends the form token of the last page read."""

    def __init__(self, client) -> None:
        self.client = client
        self.token: str | None = None

    def get(self, url: str, **kwargs):
        r = self.client.get(url, **kwargs)
        found = _TOKEN.search(r.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return r

    def post(self, url: str, data: dict | None = None, *, token: bool = True, **kwargs):
        form = dict(data or {})
        if token:
            if self.token is None:
                self.get("/app/forgot-password")  # a form on a page open to anyone
            form["csrf_token"] = self.token
        r = self.client.post(url, data=form, **kwargs)
        if r.status_code == 302:
            # Signing in or out starts a new session, with a new token: read it when needed.
            self.token = None
        return r

    def sign_in(self, email: str, password: str = PASSWORD, **kwargs):
        self.token = None
        return self.post("/app/sign-in", {"email": email, "password": password}, **kwargs)


@pytest.fixture
def team(app) -> TeamClient:
    return TeamClient(app.test_client())


@pytest.fixture
def owner(app, project) -> Member:
    return add_user(app, project.id, "owner@acme.test", Role.OWNER)


@pytest.fixture
def editor(app, project) -> Member:
    return add_user(app, project.id, "editor@acme.test", Role.EDITOR)


@pytest.fixture
def viewer(app, project) -> Member:
    return add_user(app, project.id, "viewer@acme.test", Role.VIEWER)


@pytest.fixture
def second_project(app):
    return make_project(app, "Beta product")


@pytest.fixture
def mail_app(database_url, tmp_path, smtp_sink):  # noqa: F811 (the imported fixture)
    """The app sending account emails to the real SMTP sink of the email tests."""
    app = email_app(database_url, tmp_path / "var", smtp_sink.url)
    yield app
    app.extensions["db_engine"].dispose()


def mailed_link(sink, recipient: str) -> str:
    """The one link in the last message the sink received for the recipient."""
    for received in reversed(sink.received):
        if recipient in received.rcpt_tos:
            body = received.message.get_body(("plain",)).get_content()
            links = re.findall(r"http://flywheel\.test/app/\S+", body)
            assert len(links) == 1, body
            return links[0].removeprefix("http://flywheel.test")
    raise AssertionError(f"no message for {recipient}")
