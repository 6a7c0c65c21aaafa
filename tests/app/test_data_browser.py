"""The data pages in real headless Chromium: axe-core finds nothing, the CSP blocks nothing,
filters and links work from the keyboard, and a phone's width needs no sideways scroll."""

from __future__ import annotations

from playwright.sync_api import expect

from surveys.accounts.roles import Role
from tests.app.conftest import add_user
from tests.app.data import make_answers
from tests.app.test_browser import site, visit  # noqa: F401 (the served app)
from tests.conftest import Api, make_project

PAGES = (
    "/app/responses",
    "/app/responses?segment=detractor&q=support",
    "/app/movement?from=2026-Q1",
)


def _signed_in_tab(mail_app, site, browser, **context):  # noqa: F811
    keys = make_project(mail_app, "Acme")
    data = make_answers(Api(mail_app.test_client(), keys))
    owner = add_user(mail_app, keys.id, "owner@acme.test", Role.OWNER)
    tab = visit(browser, site, **context)
    tab.go("/app/sign-in")
    tab.sign_in(owner.email)
    tab.page.wait_for_url(f"{site}/app/")
    return tab, data


def test_the_data_pages_pass_axe_and_work_by_keyboard(mail_app, site, browser):  # noqa: F811
    tab, data = _signed_in_tab(mail_app, site, browser)
    for path in (*PAGES, f"/app/people/{data.people['ann']}"):
        tab.go(path)
        tab.audit()
    # Filter by keyboard: type in the search field, Enter submits the form.
    tab.go("/app/responses")
    tab.page.get_by_label("Comment contains").focus()
    tab.page.keyboard.type("100%")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(f"{site}/app/responses?q=100%25*")
    assert tab.page.locator(".feed-item").count() == 1
    # Tab to the person's link and follow it with Enter.
    link = tab.page.locator(".feed-person").first
    link.focus()
    assert link.evaluate("a => getComputedStyle(a).outlineStyle") != "none"
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(f"{site}/app/people/{data.people['bob']}")
    expect(tab.page.get_by_role("heading", name="Answers")).to_be_visible()
    # Movement: the movers link to their people.
    tab.go("/app/movement?from=2026-Q1&to=2026-Q2")
    tab.page.get_by_role("link", name="Ann Lee").click()
    tab.page.wait_for_url(f"{site}/app/people/{data.people['ann']}")


def test_the_data_pages_fit_a_phone(mail_app, site, browser):  # noqa: F811
    tab, data = _signed_in_tab(mail_app, site, browser, viewport={"width": 375, "height": 740})
    for path in (*PAGES, f"/app/people/{data.people['ann']}"):
        tab.go(path)
        overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        tab.audit()
