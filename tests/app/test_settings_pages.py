"""The settings page through the test client: an owner's changes show in the API, bad values
are explained under their fields (never a 500), editors and viewers are refused and see no
controls, a post without the form token is refused, and key rotation shows the new key once
while the old one gets 401."""

from __future__ import annotations

import re

import pytest

from service.db import db
from surveys.keys import identity_secret
from surveys.models import Project
from tests.app.conftest import TeamClient
from tests.conftest import TEST_SECRET, Api
from tests.widget.conftest import Widget

GENERAL = {
    "name": "Acme Cloud",
    "time_zone": "Europe/Berlin",
    "throttle_days": "45",
    "hide_emails_from_viewers": "y",
}


@pytest.fixture
def signed_in_owner(team, owner) -> TeamClient:
    team.sign_in(owner.email)
    return team


def api_project(client, keys) -> dict:
    r = Api(client, keys).get("/api/v1/project")
    assert r.status_code == 200
    return r.json


def test_the_owner_changes_settings_and_the_api_shows_them(app, signed_in_owner, project):
    team = signed_in_owner
    page = team.get("/app/settings").get_data(as_text=True)
    assert 'href="/app/settings" aria-current="page"' in page
    assert 'href="/app/users"' in page  # users and roles stay on their own page
    assert "Europe/Berlin" in page  # offered in the time zones' list
    with app.app_context():
        salt = db().get(Project, project.id).identity_salt
    assert identity_secret(TEST_SECRET, salt) in page  # to sign user_hash with

    r = team.post("/app/settings/general", GENERAL)
    assert r.status_code == 302 and r.headers["Location"] == "/app/settings"
    assert "Settings saved." in team.get("/app/settings").get_data(as_text=True)
    origins = "https://App.Example.com/\n\n  http://localhost:3000 \n"
    r = team.post("/app/settings/widget", {"allowed_origins": origins})
    assert r.status_code == 302

    shown = api_project(app.test_client(), project)
    assert shown["name"] == "Acme Cloud"
    assert shown["time_zone"] == "Europe/Berlin"
    assert shown["throttle_days"] == 45
    assert shown["hide_emails_from_viewers"] is True
    # Normalised by the same domain function as PATCH /api/v1/project.
    assert shown["allowed_origins"] == ["https://app.example.com", "http://localhost:3000"]
    assert shown["require_identity_verification"] is False  # the box was left unticked

    page = team.get("/app/settings").get_data(as_text=True)
    assert 'value="Acme Cloud"' in page and 'value="45"' in page
    assert "https://app.example.com\nhttp://localhost:3000</textarea>" in page


def test_what_the_api_changes_shows_on_the_page(app, signed_in_owner, project):
    r = Api(app.test_client(), project).patch(
        "/api/v1/project", json={"throttle_days": 7, "require_identity_verification": True}
    )
    assert r.status_code == 200
    page = signed_in_owner.get("/app/settings").get_data(as_text=True)
    assert 'value="7"' in page
    assert re.search(r'<input checked id="require_identity_verification"', page)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            "Unknown IANA time zone (e.g. Europe/Berlin).",
        ),
        (
            {"throttle_days": "4000"},
            "throttle_days",
            "Must be greater than or equal to 0 and less than or equal to 3650.",
        ),
        ({"throttle_days": "soon"}, "throttle_days", "Not a valid integer value."),
        ({"name": "   "}, "name", "Length must be between 1 and 200."),
        ({"name": "two\nlines"}, "name", "Must be one line"),
    ],
)
def test_bad_values_are_explained_under_their_field(
    app, signed_in_owner, project, change, field, message
):
    before = api_project(app.test_client(), project)
    r = signed_in_owner.post("/app/settings/general", {**GENERAL, **change})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert f'id="{field}-error"' in page and 'aria-invalid="true"' in page
    assert message in page
    assert api_project(app.test_client(), project) == before


def test_a_bad_origin_names_its_line(app, signed_in_owner, project):
    r = signed_in_owner.post(
        "/app/settings/widget", {"allowed_origins": "https://ok.example.com\nnot an origin"}
    )
    assert r.status_code == 422
    assert "Line 2: an origin is a scheme and a host" in r.get_data(as_text=True)
    assert api_project(app.test_client(), project)["allowed_origins"] == []


def test_editors_and_viewers_are_refused_and_see_no_controls(app, project, editor, viewer):
    before = api_project(app.test_client(), project)
    for member in (editor, viewer):
        team = TeamClient(app.test_client())
        team.sign_in(member.email)
        overview = team.get("/app/").get_data(as_text=True)
        assert "/app/settings" not in overview  # no link in the navigation
        assert team.get("/app/settings").status_code == 403
        assert team.get("/app/settings/keys/rotate?kind=secret").status_code == 403
        for url, data in (
            ("/app/settings/general", GENERAL),
            ("/app/settings/widget", {"allowed_origins": "https://evil.example"}),
            ("/app/settings/keys/rotate", {"kind": "all"}),
        ):
            assert team.post(url, data).status_code == 403
    assert api_project(app.test_client(), project) == before
    assert Api(app.test_client(), project).get("/api/v1/project").status_code == 200


def test_a_post_without_the_form_token_is_refused(app, signed_in_owner, project):
    before = api_project(app.test_client(), project)
    r = signed_in_owner.post("/app/settings/general", GENERAL, token=False)
    assert r.status_code == 400
    assert "This form could not be accepted" in r.get_data(as_text=True)
    r = signed_in_owner.post("/app/settings/keys/rotate", {"kind": "secret"}, token=False)
    assert r.status_code == 400
    assert api_project(app.test_client(), project) == before


def _shown_key(page: str, name: str) -> str:
    found = re.findall(rf'<code data-key="{name}">([^<]+)</code>', page)
    assert len(found) == 1, page
    return found[0]


def _rotate(team, kind: str) -> str:
    """Rotate through the confirm form and read the page the redirect leads to."""
    posted = team.post("/app/settings/keys/rotate", {"kind": kind})
    assert posted.status_code == 303, posted.status_code
    return team.get(posted.headers["Location"]).get_data(as_text=True)


def test_rotating_the_secret_key_shows_it_once_and_the_old_one_gets_401(
    app, signed_in_owner, project
):
    team = signed_in_owner
    confirm = team.get("/app/settings/keys/rotate?kind=secret")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Yes, replace it now" in text and "gets 401 at once" in text
    posted = team.post("/app/settings/keys/rotate", {"kind": "secret"})
    # Post/redirect/get: reloading the page that shows the keys never rotates again.
    assert posted.status_code == 303
    assert posted.headers["Location"].endswith("/app/settings/keys/new")
    assert "fw_sk_" not in posted.get_data(as_text=True)
    r = team.get("/app/settings/keys/new")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    page = r.get_data(as_text=True)
    new_key = _shown_key(page, "secret_key")
    assert new_key.startswith("fw_sk_") and new_key != project.secret_key
    assert 'data-key="publishable_key"' not in page  # only what was asked for
    # The session cookie carried them sealed, never readable.
    cookies = "".join(posted.headers.getlist("Set-Cookie"))
    assert new_key not in cookies and new_key[6:20] not in cookies
    # A reload shows them no more, and rotates nothing.
    again = team.get("/app/settings/keys/new")
    assert again.status_code == 200
    assert new_key not in again.get_data(as_text=True)
    assert "that page was already shown" in again.get_data(as_text=True)

    api = app.test_client()
    old = api.get("/api/v1/project", headers=project.auth)
    assert old.status_code == 401
    fresh = api.get("/api/v1/project", headers={"Authorization": f"Bearer {new_key}"})
    assert fresh.status_code == 200 and fresh.json["key_prefix"] == new_key[:10]
    # Shown once: the settings page only names the prefix, nothing shows the key again.
    settings = team.get("/app/settings").get_data(as_text=True)
    assert new_key not in settings and new_key[:10] in settings
    # The widget's key was kept.
    assert Widget.of(app.test_client(), project).customer().status_code == 200


def test_rotating_the_publishable_key_and_the_identity_secret(app, signed_in_owner, project):
    team = signed_in_owner
    # Cached by this node for a few seconds: rotating here forgets it at once.
    assert Widget.of(app.test_client(), project).customer().status_code == 200
    team.get("/app/settings/keys/rotate?kind=publishable")
    page = _rotate(team, "publishable")
    new_key = _shown_key(page, "publishable_key")
    assert 'data-key="secret_key"' not in page
    assert Widget.of(app.test_client(), project).customer().status_code == 401
    assert (
        Widget(app.test_client(), new_key, identity_secret=project.identity_secret)
        .customer()
        .status_code
        == 200
    )
    assert Api(app.test_client(), project).get("/api/v1/project").status_code == 200

    team.get("/app/settings/keys/rotate?kind=identity")
    page = _rotate(team, "identity")
    secret = _shown_key(page, "identity_secret")
    assert secret.startswith("fw_id_") and secret != project.identity_secret
    with app.app_context():
        salt = db().get(Project, project.id).identity_salt
    assert secret == identity_secret(TEST_SECRET, salt)


def test_rotating_everything_and_a_bad_choice(app, signed_in_owner, project):
    team = signed_in_owner
    assert team.get("/app/settings/keys/rotate?kind=everything").status_code == 422
    assert team.post("/app/settings/keys/rotate", {"kind": "nope"}).status_code == 422
    page = _rotate(team, "all")
    secret_key = _shown_key(page, "secret_key")
    _shown_key(page, "publishable_key")
    _shown_key(page, "identity_secret")
    client = app.test_client()
    assert client.get("/api/v1/project", headers=project.auth).status_code == 401
    auth = {"Authorization": f"Bearer {secret_key}"}
    assert client.get("/api/v1/project", headers=auth).status_code == 200
