"""The team app's shell through the test client: signed-out visits go to sign in, roles decide
what a page allows, every post needs the form token, and every page has the strict headers."""

from __future__ import annotations

import pytest

from surveys.accounts.roles import Role
from tests.app.conftest import PASSWORD, TeamClient, add_user
from tests.email.conftest import email_app

PAGES = ["/app/", "/app/account", "/app/account/two-factor", "/app/users"]


def test_a_signed_out_visit_is_sent_to_sign_in_with_next(team):
    r = team.get("/app/users?x=1")
    assert r.status_code == 302
    assert r.headers["Location"] == "/app/sign-in?next=%2Fapp%2Fusers%3Fx%3D1"
    assert team.get("/app").status_code == 308  # to /app/
    assert team.get("/app/").headers["Location"].startswith("/app/sign-in?next=")


def test_sign_in_lands_on_next_but_never_off_site(team, owner):
    r = team.post("/app/sign-in?next=/app/users", {"email": owner.email, "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/app/users"
    for bad in ("https://evil.test/app/", "//evil.test/app/", "/api/v1/project", "/app\\@evil"):
        fresh = TeamClient(team.client.application.test_client())
        fresh.get("/app/sign-in")
        r = fresh.post(
            "/app/sign-in", {"email": owner.email, "password": PASSWORD}, query_string={"next": bad}
        )
        assert r.headers["Location"] == "/app/", bad


def test_the_sign_in_form_is_labelled(team):
    page = team.get("/app/sign-in").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert '<button type="submit" class="button">Sign in</button>' in page


def test_every_page_has_a_strict_content_security_policy(team, owner):
    team.sign_in(owner.email)
    for url in [*PAGES, "/app/sign-in", "/app/forgot-password", "/app/x", "/app/static/app.css"]:
        r = team.get(url)
        assert r.status_code in (200, 302, 404), url
        csp = r.headers["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ):
            assert directive in csp, (url, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        if url.startswith("/app/static"):
            continue
        assert r.headers["Cache-Control"] == "no-store"
        page = r.get_data(as_text=True)
        assert "<script" not in page and "<style" not in page and " style=" not in page, url


def test_the_session_cookie_is_httponly_lax_and_only_for_the_app(team, owner):
    r = team.sign_in(owner.email)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/app" in cookie
    assert "Secure" not in cookie  # PUBLIC_URL is http:// in the tests
    api = team.client.get("/api/v1/project")
    assert "Set-Cookie" not in api.headers and "Cookie" not in api.headers.get("Vary", "")


def test_behind_https_the_cookie_is_secure(database_url, tmp_path):
    app = email_app(database_url, tmp_path / "var", None, PUBLIC_URL="https://nps.acme.test")
    try:
        r = app.test_client().get("/app/sign-in", base_url="https://nps.acme.test")
        assert "Secure" in r.headers["Set-Cookie"]
    finally:
        app.extensions["db_engine"].dispose()


def test_a_post_without_the_form_token_is_refused_with_a_page(team, owner):
    team.sign_in(owner.email)
    r = team.post("/app/users/invite", {"email": "x@acme.test", "role": "viewer"}, token=False)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "This form could not be accepted" in page and "The CSRF token is missing." in page
    r = team.post("/app/sign-out", {"csrf_token": "forged"}, token=False)
    assert r.status_code == 400
    # The API and the widget take posts without any form token, as before.
    assert team.client.post("/api/v1/people", json={}).status_code == 401


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_only_owners_open_the_users_page(request, team, owner, who):
    member = request.getfixturevalue(who)
    team.sign_in(member.email)
    assert team.get("/app/").status_code == 200
    r = team.get("/app/users")
    assert r.status_code == 403 and "Not allowed" in r.get_data(as_text=True)
    assert team.post("/app/users/invite", {"email": "x@acme.test"}).status_code == 403
    assert team.post(f"/app/users/{owner.id}/remove").status_code == 403
    assert "/app/users" not in team.get("/app/").get_data(as_text=True)  # not in the menu


def test_members_read_a_project_page_and_only_editors_post_to_it(app, team, viewer, editor):
    # A page with no access mark, as the data pages are: registered before the first request.
    app.add_url_rule(
        "/app/probe", endpoint="app.probe", view_func=lambda: "done", methods=["GET", "POST"]
    )
    team.sign_in(viewer.email)
    assert team.get("/app/probe").status_code == 200
    r = team.post("/app/probe")
    assert r.status_code == 403 and r.mimetype == "text/html"
    team.post("/app/sign-out")
    team.sign_in(editor.email)
    assert team.post("/app/probe").get_data(as_text=True) == "done"


def test_a_viewer_may_still_manage_their_own_account(team, viewer, second_project, app):
    add_user(app, second_project.id, viewer.email, Role.VIEWER, password=None)
    team.sign_in(viewer.email)
    r = team.post("/app/switch-project", {"project": str(second_project.id)})
    assert r.status_code == 302
    assert "Beta product" in team.get("/app/").get_data(as_text=True)
    assert team.post("/app/account/sign-out-elsewhere").status_code == 302
    assert team.post("/app/sign-out").status_code == 302


def test_unknown_app_addresses_get_an_html_page(team):
    r = team.get("/app/no/such/page")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "Page not found" in r.get_data(as_text=True)


def test_a_member_of_no_project_sees_why(app, team, owner, project):
    with app.app_context():
        from service.db import db
        from surveys.accounts.users import add_member, remove_member

        add_member(db(), project.id, "second@acme.test", Role.OWNER)
        remove_member(db(), project.id, owner.id)
        db().commit()
    team.sign_in(owner.email)
    r = team.get("/app/")
    assert r.status_code == 403 and "No project yet" in r.get_data(as_text=True)
    assert team.get("/app/account").status_code == 200
