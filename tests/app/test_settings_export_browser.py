"""The settings and export pages in real headless Chromium: axe-core finds nothing on them
(with data, with errors, on the confirm step and the new keys), the Content-Security-Policy
blocks nothing, a phone's width needs no sideways scroll, a rotated key works on the API while
the old one gets 401, and the Download button saves the API's bytes."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from surveys.accounts.roles import Role
from tests.answers import answer
from tests.app.conftest import add_user
from tests.app.test_browser import signed_in, site  # noqa: F401 (the served app)
from tests.conftest import Api, make_project

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 375, "height": 740}


def _data(app):
    keys = make_project(app, "Acme with a rather long name for a phone", "Europe/Berlin")
    api = Api(app.test_client(), keys)
    survey = api.post("/api/v1/surveys", json={"name": "Quarterly NPS"}).json["id"]
    for q, month in enumerate(("01", "04")):
        for i, score in enumerate((10, 9, 3, 7, q * 4 + 2)):
            answer(api, survey, f"p{i}", score, f"2026-{month}-10T09:00:00Z")
    return keys, api, survey


def _no_sideways_scroll(tab) -> None:
    overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, (tab.page.url, overflow)


def _shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_settings_page_in_chromium(mail_app, site, browser):  # noqa: F811
    keys, api, _ = _data(mail_app)
    owner = add_user(mail_app, keys.id, "someone.with.a.long.address@acme.test", Role.OWNER)
    tab = signed_in(browser, site, owner.email)
    tab.page.get_by_role("link", name="Settings").click()
    tab.page.wait_for_url(f"{site}/app/settings")
    tab.audit()
    _shot(tab, "settings-desktop")

    # A bad zone is explained under its field; the rest of the form keeps what was typed.
    tab.page.get_by_label("Time zone").fill("Mars/Olympus")
    tab.page.get_by_label("Survey nobody more than once per (days)").fill("14")
    tab.page.get_by_role("button", name="Save project settings").click()
    expect(tab.page.get_by_text("Unknown IANA time zone (e.g. Europe/Berlin).")).to_be_visible()
    tab.audit()
    tab.page.get_by_label("Time zone").fill("America/New_York")
    tab.page.get_by_role("button", name="Save project settings").click()
    expect(tab.page.get_by_text("Settings saved.")).to_be_visible()
    shown = api.get("/api/v1/project").json
    assert (shown["time_zone"], shown["throttle_days"]) == ("America/New_York", 14)

    tab.page.get_by_label("Allowed origins").fill("https://app.example.com\nftp://nope")
    tab.page.get_by_role("button", name="Save widget settings").click()
    expect(tab.page.get_by_text("Line 2: an origin is a scheme and a host")).to_be_visible()
    tab.audit()
    tab.page.get_by_text("How your server computes user_hash").click()
    tab.audit()

    # Key rotation: choose, confirm, copy once.
    tab.page.get_by_label("The secret key (the API)").check()
    tab.page.get_by_role("button", name="Replace…").click()
    heading = tab.page.get_by_role("heading", name="Replace the secret key (the API)?")
    expect(heading).to_be_visible()
    tab.audit()
    tab.page.get_by_role("button", name="Yes, replace it now").click()
    expect(tab.page.get_by_role("heading", name="Your new keys")).to_be_visible()
    tab.audit()
    _shot(tab, "new-keys-desktop")
    new_key = tab.page.locator('[data-key="secret_key"]').inner_text()
    client = mail_app.test_client()
    assert client.get("/api/v1/project", headers=keys.auth).status_code == 401
    fresh = {"Authorization": f"Bearer {new_key}"}
    assert client.get("/api/v1/project", headers=fresh).status_code == 200

    phone = signed_in(browser, site, owner.email)
    phone.page.set_viewport_size(PHONE)
    phone.go("/app/settings")
    _no_sideways_scroll(phone)
    phone.audit()
    _shot(phone, "settings-phone")

    viewer = add_user(mail_app, keys.id, "viewer@acme.test", Role.VIEWER)
    other = signed_in(browser, site, viewer.email)
    expect(other.page.get_by_role("link", name="Settings")).to_have_count(0)
    expect(other.page.get_by_role("link", name="Export")).to_be_visible()


def test_export_page_in_chromium(mail_app, site, browser):  # noqa: F811
    keys, api, survey = _data(mail_app)
    viewer = add_user(mail_app, keys.id, "someone.with.a.long.address@acme.test", Role.VIEWER)
    tab = signed_in(browser, site, viewer.email)
    tab.page.get_by_role("link", name="Export").click()
    tab.page.wait_for_url(f"{site}/app/export")
    tab.audit()
    _shot(tab, "export-desktop")

    responses = tab.page.locator("form").filter(has=tab.page.locator('input[value="responses"]'))
    responses.get_by_label("Survey").select_option(str(survey))
    responses.get_by_label("From").fill("2026-04-01")
    responses.get_by_label("Segment").select_option("promoter")
    responses.get_by_role("button", name="Show the API command").click()
    command = tab.page.locator('[data-command="responses"]')
    expect(command).to_contain_text("since=2026-03-31T22%3A00%3A00Z")
    tab.audit()

    responses = tab.page.locator("form").filter(has=tab.page.locator('input[value="responses"]'))
    with tab.page.expect_download() as pending:
        responses.get_by_role("button", name="Download").click()
    saved = Path(pending.value.path()).read_bytes()
    query = f"format=csv&survey_id={survey}&since=2026-03-31T22:00:00Z&segment=promoter"
    assert saved == api.get(f"/api/v1/export/responses?{query}").data
    assert saved.count(b"\n") == 1 + 2  # the header, p0 (10) and p1 (9) in April

    # A movement without a survey cannot be: the page says so instead of a 500.
    tab.go(f"/app/export/movement?format=csv&survey_id={survey}&from=2026-Q9&what=movement")
    expect(tab.page.get_by_role("alert")).to_be_visible()
    tab.audit()

    phone = signed_in(browser, site, viewer.email)
    phone.page.set_viewport_size(PHONE)
    phone.go("/app/export")
    _no_sideways_scroll(phone)
    phone.audit()
    _shot(phone, "export-phone")
