"""The Alerts page in real headless Chromium: an editor adds a rule through the labelled
fields, sees a refusal under its field, edits and tests it; axe-core finds nothing on any of
these states, the Content-Security-Policy blocks nothing, and a phone's width needs no
sideways scroll."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from surveys.accounts.roles import Role
from tests.app.conftest import add_user, mail_app  # noqa: F401 (fixtures)
from tests.app.test_browser import signed_in, site  # noqa: F401 (the served app)
from tests.conftest import make_project
from tests.email.conftest import smtp_sink  # noqa: F401
from tests.email.test_link_browser import browser  # noqa: F401 (headless Chromium)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_alerts_page_by_label_with_axe_and_a_phone(mail_app, site, browser):  # noqa: F811
    keys = make_project(mail_app, "Acme")
    editor = add_user(mail_app, keys.id, "editor@acme.test", Role.EDITOR)
    tab = signed_in(browser, site, editor.email)
    page = tab.go("/app/alerts")
    expect(page.get_by_text("No alert rules yet.")).to_be_visible()
    tab.audit()

    page.get_by_label("Name", exact=True).fill("Enterprise detractors")
    page.get_by_label("Alert when").select_option("detractor")
    page.get_by_label("Send to").select_option("email")
    page.get_by_label("Email addresses").fill("not an address")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_text("is not an email address")).to_be_visible()
    tab.audit()

    page.get_by_label("Email addresses").fill("cx@acme.test\nlead@acme.test")
    page.get_by_label("Only answers with a comment").check()
    page.get_by_label("Property name").fill("plan")
    page.get_by_label("Property value").fill("enterprise")
    page.get_by_label("Revenue property").fill("mrr")
    page.get_by_label("Minimum revenue").fill("1000")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_text("Alert rule “Enterprise detractors” saved.")).to_be_visible()
    page.get_by_role("button", name="Send a test for Enterprise detractors").click()
    expect(page.get_by_text("is queued")).to_be_visible()
    tab.audit()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "alerts-desktop.png"), full_page=True)

    page.get_by_role("link", name="Edit Enterprise detractors").click()
    expect(page.get_by_role("heading", name="Change “Enterprise detractors”")).to_be_visible()
    tab.audit()

    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/app/alerts", page.url.removeprefix(site)):
        tab.go(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    tab.go("/app/alerts")
    page.screenshot(path=str(ARTIFACTS / "alerts-phone.png"), full_page=True)

    viewer = add_user(mail_app, keys.id, "viewer@acme.test", Role.VIEWER)
    reader = signed_in(browser, site, viewer.email)
    reader.go("/app/alerts")
    expect(reader.page.get_by_text("Enterprise detractors")).to_be_visible()
    assert reader.page.get_by_role("button", name="Add rule").count() == 0
    reader.audit()
