"""The overview and friction points in real headless Chromium, with data made through the API
and a fitted theme run: axe-core finds nothing on them (with data, empty, or with a bad
filter), the Content-Security-Policy blocks nothing, the filters work from the keyboard, and a
phone's width needs no sideways scroll."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from service.worker.loop import run_once
from surveys.accounts.roles import Role
from tests.answers import answer
from tests.app.conftest import add_user
from tests.app.test_browser import signed_in, site  # noqa: F401 (the served app)
from tests.conftest import Api, make_project
from tests.themes.corpus import UNTIL, load

PAGES = ("/app/", "/app/?by=month&compare=plan", "/app/friction-points?sort=revenue")


@pytest.fixture
def member(mail_app):
    keys = make_project(mail_app, "Acme with a rather long name for a phone")
    api = Api(mail_app.test_client(), keys)
    survey = api.post("/api/v1/surveys", json={"name": "Quarterly NPS"}).json["id"]
    for q, month in enumerate(("01", "04", "07")):
        for i, score in enumerate((10, 9, 3, 7, 8, 10, q * 3, 6)):
            answer(
                api,
                survey,
                f"p{i}",
                score,
                f"2026-{month}-10T09:00:00Z",
                properties={"plan": ("free", "pro", "enterprise")[i % 3]},
            )
    load(api, mail_app)
    assert api.post("/api/v1/themes/runs", json={"until": UNTIL}).status_code == 202
    assert run_once(mail_app)["theme_runs"] == 1
    return add_user(mail_app, keys.id, "someone.with.a.long.address@acme.test", Role.VIEWER)


def test_data_pages_pass_axe_with_data_empty_and_bad_filters(mail_app, site, browser, member):  # noqa: F811
    tab = signed_in(browser, site, member.email)
    for path in PAGES:
        tab.go(path)
        tab.audit()
    assert tab.go("/app/").locator('[data-metric="nps"]').get_attribute("data-value")
    expect(tab.go("/app/?by=decade").get_by_role("alert")).to_be_visible()
    tab.audit()
    assert (
        tab.go("/app/?since=2030-01-01").get_by_role("heading", name="No answers yet").is_visible()
    )
    tab.audit()

    empty = make_project(mail_app, "Empty")
    newcomer = add_user(mail_app, empty.id, "new@acme.test", Role.OWNER)
    fresh = signed_in(browser, site, newcomer.email)
    fresh.go("/app/friction-points")
    expect(fresh.page.get_by_role("heading", name="No friction points yet")).to_be_visible()
    fresh.audit()


def test_filters_by_keyboard_and_a_phone_width(mail_app, site, browser, member):  # noqa: F811
    tab = signed_in(browser, site, member.email)
    tab.page.set_viewport_size({"width": 375, "height": 740})
    for path in PAGES:
        tab.go(path)
        overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)

    tab.go("/app/")
    for _ in range(40):
        tab.page.keyboard.press("Tab")
        if tab.page.evaluate("document.activeElement.id") == "f-compare":
            break
    else:
        raise AssertionError("Tab never reached the compare field")
    tab.page.keyboard.type("plan")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**compare=plan**")
    expect(tab.page.get_by_role("heading", name="NPS by plan")).to_be_visible()

    tab.go("/app/friction-points")
    link = tab.page.get_by_role("link", name="Revenue at risk")
    link.focus()
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**sort=revenue")
    for _ in range(60):
        tab.page.keyboard.press("Tab")
        href = tab.page.evaluate("document.activeElement.getAttribute('href') || ''")
        if href.startswith("/app/responses?theme="):
            break
    else:
        raise AssertionError("Tab never reached a theme's responses")
    outline = tab.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
