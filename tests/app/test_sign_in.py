"""Signing in through the test client: wrong passwords, the lockout per account and the budget
per IP (in memory, and in a real Redis shared by two app instances when TEST_REDIS_URL is set),
signing out, changing the password, and two-factor codes."""

from __future__ import annotations

import os
import re
import uuid

import pyotp
import pytest

from service.db import db
from service.factory import create_app
from surveys.models import User
from tests.app.conftest import PASSWORD, TeamClient
from tests.conftest import TEST_SECRET

REDIS_URL = os.environ.get("TEST_REDIS_URL")
WRONG = "That email and password do not match an account."


def test_wrong_password_and_unknown_email_read_the_same(team, owner):
    for email, password in ((owner.email, "not the password"), ("nobody@acme.test", PASSWORD)):
        r = team.post("/app/sign-in", {"email": email, "password": password})
        assert r.status_code == 422
        assert WRONG in r.get_data(as_text=True)
    assert team.get("/app/").status_code == 302


def fail(team, email: str):
    return team.post("/app/sign-in", {"email": email, "password": "not it"})


def test_five_failures_lock_the_account_for_a_while(app, team, owner, editor):
    for _ in range(5):
        assert fail(team, owner.email).status_code == 422
    r = team.post("/app/sign-in", {"email": owner.email.upper(), "password": PASSWORD})
    assert r.status_code == 429
    assert "Too many failed sign-ins for this account" in r.get_data(as_text=True)
    assert 1 <= int(r.headers["Retry-After"]) <= 15 * 60
    assert team.get("/app/").status_code == 302  # not signed in
    # Other accounts are not locked, and an address without an account locks the same way.
    assert team.sign_in(editor.email).status_code == 302


def test_a_success_clears_the_failures(team, owner):
    for _ in range(4):
        fail(team, owner.email)
    assert team.sign_in(owner.email).status_code == 302
    team.post("/app/sign-out")
    for _ in range(4):
        assert fail(team, owner.email).status_code == 422
    assert team.sign_in(owner.email).status_code == 302


def test_attempts_per_ip_are_limited(app, team, owner):
    app.config["RATE_LIMIT_SIGN_IN_IP"] = "3/minute"
    for n in range(3):
        r = team.post("/app/sign-in", {"email": f"guess{n}@acme.test", "password": "x"})
        assert r.status_code == 422
    r = team.post("/app/sign-in", {"email": owner.email, "password": PASSWORD})
    assert r.status_code == 429
    assert "Too many attempts from your network" in r.get_data(as_text=True)
    # Another address still gets in.
    other = TeamClient(app.test_client())
    assert other.sign_in(owner.email, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 302


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
def test_a_lockout_holds_on_every_node_sharing_redis(database_url, tmp_path, project):
    from surveys.accounts.roles import Role
    from tests.app.conftest import add_user

    def node():
        return create_app(
            {
                "DATABASE_URL": database_url,
                "VAR_DIR": str(tmp_path / "var"),
                "SECRET_KEY": TEST_SECRET,
                "REDIS_URL": REDIS_URL,
            }
        )

    first, second = node(), node()
    try:
        # Counters in a shared Redis outlive the test: a fresh address per run.
        member = add_user(first, project.id, f"{uuid.uuid4().hex[:8]}@acme.test", Role.OWNER)
        one, two = TeamClient(first.test_client()), TeamClient(second.test_client())
        for _ in range(5):
            one.post("/app/sign-in", {"email": member.email, "password": "nope"})
        assert two.sign_in(member.email).status_code == 429
    finally:
        first.extensions["db_engine"].dispose()
        second.extensions["db_engine"].dispose()


def test_sign_in_starts_a_fresh_session_and_sign_out_ends_it(team, owner):
    team.get("/app/sign-in")
    before = team.token
    team.sign_in(owner.email)
    assert team.token != before  # nothing from before signing in carries over
    assert team.get("/app/").status_code == 200
    r = team.post("/app/sign-out")
    assert r.status_code == 302 and r.headers["Location"] == "/app/sign-in"
    assert "You are signed out." in team.get("/app/sign-in").get_data(as_text=True)
    assert team.get("/app/").status_code == 302


def test_changing_the_password_signs_out_other_browsers(app, owner):
    here, there = TeamClient(app.test_client()), TeamClient(app.test_client())
    here.sign_in(owner.email)
    there.sign_in(owner.email)
    new = {"password": "a new passphrase", "confirm": "a new passphrase"}
    r = here.post("/app/account/password", {"current_password": "wrong", **new})
    assert r.status_code == 422 and "The current password is wrong." in r.get_data(as_text=True)
    r = here.post("/app/account/password", {"current_password": PASSWORD, **new})
    assert r.status_code == 302
    assert here.get("/app/").status_code == 200
    assert there.get("/app/").status_code == 302
    assert TeamClient(app.test_client()).sign_in(owner.email, "a new passphrase").status_code == 302


def test_sign_out_everywhere_else(app, owner):
    here, there = TeamClient(app.test_client()), TeamClient(app.test_client())
    here.sign_in(owner.email)
    there.sign_in(owner.email)
    assert here.post("/app/account/sign-out-elsewhere").status_code == 302
    assert here.get("/app/").status_code == 200
    assert there.get("/app/").status_code == 302


def _secret_on_page(page: str) -> str:
    return re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).replace(" ", "")


def _turn_on_two_factor(team) -> pyotp.TOTP:
    page = team.get("/app/account/two-factor").get_data(as_text=True)
    totp = pyotp.TOTP(_secret_on_page(page))
    qr = team.get("/app/account/two-factor/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    r = team.post("/app/account/two-factor", {"code": "000000"})
    assert r.status_code == 422 and "not right" in r.get_data(as_text=True)
    assert team.post("/app/account/two-factor", {"code": totp.now()}).status_code == 302
    return totp


def test_two_factor_asks_for_a_fresh_code_after_the_password(app, team, owner):
    team.sign_in(owner.email)
    totp = _turn_on_two_factor(team)
    team.post("/app/sign-out")

    r = team.sign_in(owner.email)
    assert r.status_code == 302 and r.headers["Location"] == "/app/sign-in/code"
    assert team.get("/app/").status_code == 302  # the password alone does not sign in
    page = team.get("/app/sign-in/code").get_data(as_text=True)
    assert "Code from your authenticator app" in page
    assert team.post("/app/sign-in/code", {"code": "123456"}).status_code == 422
    # The code that turned two-factor on was used: it does not work a second time. It is
    # rebuilt from the stored step, not from the clock, which may have moved to the next step.
    with app.app_context():
        used = totp.generate_otp(db().get(User, owner.id).totp_last_step)
    assert team.post("/app/sign-in/code", {"code": used}).status_code == 422
    with app.app_context():
        db().get(User, owner.id).totp_last_step -= 1  # as if that code were the previous one
        db().commit()
    r = team.post("/app/sign-in/code", {"code": used})
    assert r.status_code == 302 and r.headers["Location"] == "/app/"
    assert team.get("/app/").status_code == 200


def test_two_factor_failures_count_towards_the_lockout(app, team, owner):
    team.sign_in(owner.email)
    _turn_on_two_factor(team)
    team.post("/app/sign-out")
    team.sign_in(owner.email)
    team.get("/app/sign-in/code")
    for _ in range(5):
        team.post("/app/sign-in/code", {"code": "000000"})
    assert team.post("/app/sign-in/code", {"code": "000000"}).status_code == 429


def test_turning_two_factor_off_needs_the_password(app, team, owner):
    team.sign_in(owner.email)
    _turn_on_two_factor(team)
    r = team.post("/app/account/two-factor/off", {"current_password": "guess"})
    assert r.status_code == 422
    r = team.post("/app/account/two-factor/off", {"current_password": PASSWORD})
    assert r.status_code == 302
    with app.app_context():
        assert db().get(User, owner.id).totp_secret is None


def test_the_cli_turns_two_factor_off_for_a_lost_phone(app, team, owner):
    team.sign_in(owner.email)
    _turn_on_two_factor(team)
    result = app.test_cli_runner().invoke(args=["users", "reset-two-factor", owner.email])
    assert result.exit_code == 0, result.output
    team.post("/app/sign-out")
    r = team.sign_in(owner.email)
    assert r.headers["Location"] == "/app/"
