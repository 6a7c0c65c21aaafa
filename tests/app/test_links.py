"""One-time links through the test client: the CLI's sign-in link, invitations and resets
work once and expire; only their hashes are stored; the access log never shows them."""

from __future__ import annotations

import json
from datetime import timedelta

from service.db import db
from service.logs import redact
from surveys.accounts import links
from surveys.accounts.links import Purpose
from surveys.accounts.roles import Role
from surveys.clock import utcnow
from surveys.models import Membership, User
from tests.app.conftest import PASSWORD, TeamClient, add_user, mailed_link
from tests.security.test_secrets import all_text_in_database

NEW = {"password": "a long new passphrase", "confirm": "a long new passphrase"}


def create_user(app, *args: str, stdin: str | None = None) -> dict:
    result = app.test_cli_runner().invoke(args=["users", "create", *args, "--json"], input=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_users_create_prints_a_one_time_sign_in_link(app, team, project):
    data = create_user(app, "Ann@Acme.test", "--project", str(project.id), "--role", "editor")
    assert set(data) == {"id", "email", "role", "project_id", "sign_in_url"}
    assert data["email"] == "ann@acme.test"
    assert (data["role"], data["project_id"]) == ("editor", project.id)
    assert data["sign_in_url"].startswith("http://flywheel.test/app/set-password/")
    path = data["sign_in_url"].removeprefix("http://flywheel.test")

    page = team.get(path).get_data(as_text=True)
    assert "Welcome to Flywheel" in page and "ann@acme.test" in page
    r = team.post(path, {"password": "short", "confirm": "short"})
    assert r.status_code == 422 and "at least 10 characters" in r.get_data(as_text=True)
    assert team.get(path).status_code == 200  # a refused password does not use the link up
    r = team.post(path, NEW)
    assert r.status_code == 302 and r.headers["Location"] == "/app/"
    assert "Your password is set." in team.get("/app/").get_data(as_text=True)

    # Once only.
    again = team.get(path)
    assert again.status_code == 410 and "was used already" in again.get_data(as_text=True)
    assert team.post(path, NEW).status_code == 410
    again = TeamClient(app.test_client()).sign_in("ann@acme.test", NEW["password"])
    assert again.status_code == 302


def test_cli_users_create_with_a_password_from_stdin(app, project):
    data = create_user(
        app,
        *("bo@acme.test", "--project", str(project.id), "--role", "viewer", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert data["role"] == "viewer"
    assert TeamClient(app.test_client()).sign_in("bo@acme.test").status_code == 302


def test_cli_users_create_refuses_what_it_cannot_do(app, project):
    runner = app.test_cli_runner()
    for args, words in (
        (["nobody", "--project", str(project.id), "--role", "owner"], "not an email address"),
        (["x@acme.test", "--project", "999", "--role", "owner"], "project 999 not found"),
        (["x@acme.test", "--project", str(project.id), "--role", "boss"], "Invalid value"),
    ):
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0 and words in result.output, result.output
    create_user(app, "x@acme.test", "--project", str(project.id), "--role", "owner")
    result = runner.invoke(
        args=["users", "create", "x@acme.test", "--project", str(project.id), "--role", "owner"]
    )
    assert result.exit_code == 1 and "a member already" in result.output


def test_a_link_expires(app, team, project):
    member = add_user(app, project.id, "late@acme.test", Role.VIEWER, password=None)
    with app.app_context():
        user = db().get(User, member.id)
        issued = utcnow() - timedelta(days=7, seconds=1)
        token = links.issue_link(db(), user, Purpose.INVITE, issued)
        db().commit()
    r = team.get(f"/app/set-password/{token}")
    assert r.status_code == 410 and "This link has expired." in r.get_data(as_text=True)
    assert team.post(f"/app/set-password/{token}", NEW).status_code == 410
    assert team.get("/app/set-password/made-up").status_code == 404


def test_a_new_link_replaces_the_earlier_one(app, team, project):
    member = add_user(app, project.id, "twice@acme.test", Role.VIEWER, password=None)
    with app.app_context():
        user = db().get(User, member.id)
        first = links.issue_link(db(), user, Purpose.RESET, utcnow())
        second = links.issue_link(db(), user, Purpose.RESET, utcnow())
        db().commit()
    assert team.get(f"/app/set-password/{first}").status_code == 410
    assert team.get(f"/app/set-password/{second}").status_code == 200


def test_two_posts_racing_with_one_link_set_one_password(app, project):
    member = add_user(app, project.id, "race@acme.test", Role.VIEWER, password=None)
    with app.app_context():
        token = links.issue_link(db(), db().get(User, member.id), Purpose.INVITE, utcnow())
        db().commit()
    with app.app_context():
        found = links.find_link(db(), token, utcnow())  # both requests read the link ...
        assert links.use_link(db(), token, utcnow()).id == found.id
        db().commit()
    with app.app_context():  # ... and the second one's guarded update finds it used
        try:
            links.use_link(db(), token, utcnow())
        except links.LinkUnusable as exc:
            assert exc.reason == "used"
        else:
            raise AssertionError("a link was used twice")


def test_tokens_and_passwords_are_stored_only_hashed(app, project):
    data = create_user(app, "hash@acme.test", "--project", str(project.id), "--role", "owner")
    token = data["sign_in_url"].rsplit("/", 1)[1]
    TeamClient(app.test_client()).post(f"/app/set-password/{token}", NEW)
    stored = all_text_in_database(app)
    assert token not in stored
    assert NEW["password"] not in stored
    assert "$argon2id$" in stored


def test_the_access_log_redacts_one_time_links():
    line = 'GET /app/set-password/Abc_123-xyz HTTP/1.1" 200'
    assert redact(line) == 'GET /app/set-password/[redacted] HTTP/1.1" 200'


def test_ensure_first_creates_the_first_owner_once(app, monkeypatch):
    monkeypatch.setenv("FIRST_OWNER_EMAIL", "boss@acme.test")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["projects", "ensure-first"])
    assert result.exit_code == 0, result.output
    assert "boss@acme.test is owner of project 1" in result.output
    link = next(w for w in result.output.split() if "/app/set-password/" in w)
    assert link.startswith("http://flywheel.test/app/set-password/")
    again = runner.invoke(args=["projects", "ensure-first"])
    assert "/app/set-password/" not in again.output
    with app.app_context():
        assert [(m.user_id, m.role) for m in db().query(Membership)] == [(1, "owner")]


def test_ensure_first_gives_an_existing_project_its_first_owner(app, project):
    result = app.test_cli_runner().invoke(args=["projects", "ensure-first"])
    assert "A project exists already" in result.output
    assert f"owner@localhost is owner of project {project.id}" in result.output


def test_a_reset_email_arrives_and_its_link_works_once(mail_app, smtp_sink):
    from tests.conftest import make_project

    keys = make_project(mail_app)
    member = add_user(mail_app, keys.id, "forgetful@acme.test", Role.EDITOR)
    team = TeamClient(mail_app.test_client())
    page = team.post("/app/forgot-password", {"email": "Forgetful@Acme.test"})
    assert page.status_code == 200 and "Check your email" in page.get_data(as_text=True)
    # An address without an account reads the same, and nothing is sent to it.
    nobody = team.post("/app/forgot-password", {"email": "nobody@acme.test"})
    assert nobody.status_code == 200 and "Check your email" in nobody.get_data(as_text=True)
    assert [r.rcpt_tos for r in smtp_sink.received] == [[member.email]]
    message = smtp_sink.received[0].message
    assert message["Subject"] == "Reset your Flywheel password"
    assert message["From"] == "Acme NPS <nps@acme.test>"
    path = mailed_link(smtp_sink, member.email)
    assert team.post(path, NEW).status_code == 302
    assert team.get(path).status_code == 410
    assert TeamClient(mail_app.test_client()).sign_in(member.email, PASSWORD).status_code == 422


def test_reset_emails_per_address_are_capped(mail_app, smtp_sink):
    from tests.conftest import make_project

    keys = make_project(mail_app)
    add_user(mail_app, keys.id, "often@acme.test", Role.EDITOR)
    team = TeamClient(mail_app.test_client())
    for _ in range(3):
        assert team.post("/app/forgot-password", {"email": "often@acme.test"}).status_code == 200
    r = team.post("/app/forgot-password", {"email": "often@acme.test"})
    assert r.status_code == 429
    assert len(smtp_sink.received) == 3
