"""The surveys pages in real headless Chromium: typing in the form changes the previews (the
page's own script posts the form into their frames), the Preview buttons do the same without
the script, the snippet's copy button fills the clipboard, axe-core finds nothing, the CSP blocks
nothing, and a phone's width needs no sideways scroll."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from surveys.accounts.roles import Role
from tests.app.conftest import add_user
from tests.app.test_browser import site, visit  # noqa: F401 (the served app)
from tests.app.test_surveys_pages import OUTBOX, add_invitations
from tests.conftest import make_project

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 375, "height": 740}


def _signed_in(mail_app, site, browser, role: Role, **context):  # noqa: F811
    keys = make_project(mail_app, "Acme")
    member = add_user(mail_app, keys.id, f"{role.value}@acme.test", role)
    tab = visit(browser, site, **context)
    tab.go("/app/sign-in")
    tab.sign_in(member.email)
    tab.page.wait_for_url(f"{site}/app/")
    return tab, keys


def _shows(tab, name: str, text: str) -> None:
    body = tab.page.frame_locator(f"iframe[name={name}]").locator("body")
    expect(body).to_contain_text(text, timeout=5000)


def _no_sideways_scroll(tab) -> None:
    assert tab.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_typing_changes_the_previews_and_the_pages_pass_axe(mail_app, site, browser):  # noqa: F811
    tab, keys = _signed_in(
        mail_app,
        site,
        browser,
        Role.EDITOR,
        permissions=["clipboard-read", "clipboard-write"],
        viewport={"width": 1400, "height": 1000},
    )
    tab.page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    tab.page.wait_for_url(f"{site}/app/surveys")
    expect(tab.page.get_by_role("heading", name="No surveys yet")).to_be_visible()
    tab.audit()

    tab.page.get_by_role("link", name="New survey").click()
    tab.page.wait_for_url(f"{site}/app/surveys/new")
    _shows(tab, "email-preview", "How likely are you to recommend us")
    tab.audit()

    tab.page.get_by_label("Name", exact=True).fill("Quarterly NPS")
    tab.page.get_by_label("Product name").fill("Acme Cloud")
    tab.page.get_by_label("Question").fill("Would you tell a colleague about {product}?")
    _shows(tab, "email-preview", "Would you tell a colleague about Acme Cloud?")
    _shows(tab, "widget-preview", "Would you tell a colleague about Acme Cloud?")
    tab.page.get_by_label("Follow-up after 0–6 (detractors)").fill("What let you down?")
    _shows(tab, "widget-preview", "What let you down?")
    tab.page.get_by_label("Email subject").fill("One click for {product}")
    _shows(tab, "email-preview", "Would you tell a colleague")
    _shows(tab, "email-preview", "Subject: One click for Acme Cloud")
    tab.audit()

    # Another locale: a new row (posted, nothing saved), and the preview in that language.
    tab.page.get_by_role("button", name="Add a locale").click()
    expect(tab.page.get_by_role("group", name="A new locale")).to_be_visible()
    row = tab.page.get_by_role("group", name="A new locale")
    row.get_by_label("Locale").fill("ru")
    row.get_by_label("Question").fill("Посоветуете ли вы {product}?")
    tab.page.get_by_label("Preview in").select_option("ru")
    _shows(tab, "widget-preview", "Посоветуете ли вы Acme Cloud?")
    _shows(tab, "widget-preview", "Маловероятно")
    tab.page.get_by_label("Preview in").select_option("en")
    _shows(tab, "email-preview", "Would you tell a colleague about Acme Cloud?")
    ARTIFACTS.mkdir(exist_ok=True)
    tab.page.evaluate("window.scrollTo(0, 0)")
    tab.page.screenshot(path=str(ARTIFACTS / "surveys-edit-desktop.png"))
    tab.page.locator(".survey-previews").screenshot(
        path=str(ARTIFACTS / "surveys-preview-desktop.png")
    )

    tab.page.get_by_label("Cadence (days)").fill("0")
    tab.page.get_by_role("button", name="Create survey").click()
    expect(tab.page.get_by_text("Must be greater than or equal to 1")).to_be_visible()
    tab.audit()
    tab.page.get_by_label("Cadence (days)").fill("60")
    tab.page.get_by_role("button", name="Create survey").click()
    expect(tab.page.get_by_text("Survey “Quarterly NPS” created.")).to_be_visible()
    expect(tab.page.get_by_role("heading", name="Quarterly NPS")).to_be_visible()
    _shows(tab, "email-preview", "Would you tell a colleague about Acme Cloud?")
    tab.audit()

    # The snippet: copied by its button; the key's place is marked, the key itself unknown.
    tab.page.get_by_role("button", name="Copy the snippet").click()
    expect(tab.page.get_by_text("Copied.")).to_be_visible()
    copied = tab.page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        '<script src="http://flywheel.test/widget.js" data-key="YOUR_PUBLISHABLE_KEY" async>'
        "</script>"
    )

    survey_id = int(tab.page.url.rsplit("/", 1)[1])
    add_invitations(mail_app, keys.id, survey_id, OUTBOX * 40)
    tab.go("/app/surveys")
    expect(tab.page.get_by_role("link", name="Quarterly NPS")).to_be_visible()
    expect(tab.page.locator('[data-metric="response_rate"]')).to_have_text("66.7%")
    tab.audit()
    tab.page.screenshot(path=str(ARTIFACTS / "surveys-list-desktop.png"), full_page=True)


def test_without_script_the_preview_buttons_work(mail_app, site, browser):  # noqa: F811
    tab, _ = _signed_in(mail_app, site, browser, Role.EDITOR, java_script_enabled=False)
    tab.go("/app/surveys/new")
    tab.page.get_by_label("Question").fill("Without script, {product}?")
    tab.page.get_by_label("Product name").fill("Plain")
    tab.page.get_by_role("button", name="Preview widget").click()
    _shows(tab, "widget-preview", "Without script, Plain?")
    tab.page.get_by_role("button", name="Preview email").click()
    _shows(tab, "email-preview", "Without script, Plain?")
    # The snippet stays selectable text; its copy button needs the script, so it stays hidden.
    expect(tab.page.get_by_role("button", name="Copy the snippet")).to_be_hidden()
    expect(tab.page.locator("#snippet")).to_contain_text('data-key="YOUR_PUBLISHABLE_KEY"')


def test_a_viewer_and_a_phone(mail_app, site, browser):  # noqa: F811
    tab, keys = _signed_in(mail_app, site, browser, Role.EDITOR, viewport=PHONE)
    tab.go("/app/surveys/new")
    tab.page.get_by_label("Name", exact=True).fill("Phone survey")
    tab.page.get_by_role("button", name="Create survey").click()
    expect(tab.page.get_by_text("Survey “Phone survey” created.")).to_be_visible()
    _shows(tab, "email-preview", "How likely are you to recommend us")
    _shows(tab, "widget-preview", "How likely are you to recommend us")
    _no_sideways_scroll(tab)
    tab.audit()
    ARTIFACTS.mkdir(exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / "surveys-edit-phone.png"))
    previews = tab.page.locator(".survey-previews")
    previews.scroll_into_view_if_needed()
    tab.page.wait_for_timeout(500)  # frames scrolled into view are painted on the next frame
    previews.screenshot(path=str(ARTIFACTS / "surveys-preview-phone.png"))
    tab.go("/app/surveys")
    _no_sideways_scroll(tab)
    tab.audit()
    tab.page.screenshot(path=str(ARTIFACTS / "surveys-list-phone.png"), full_page=True)

    viewer = add_user(mail_app, keys.id, "viewer@acme.test", Role.VIEWER)
    seen = visit(browser, site, viewport=PHONE)
    seen.go("/app/sign-in")
    seen.sign_in(viewer.email)
    seen.page.wait_for_url(f"{site}/app/")
    seen.go("/app/surveys")
    expect(seen.page.get_by_role("link", name="New survey")).to_have_count(0)
    seen.page.get_by_role("link", name="Phone survey").click()
    expect(seen.page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(seen.page.get_by_role("button", name="Save")).to_have_count(0)
    expect(seen.page.locator("main form")).to_have_count(0)
    expect(seen.page.frame_locator("iframe.email-preview").locator("body")).to_contain_text(
        "How likely are you to recommend us"
    )
    _no_sideways_scroll(seen)
    seen.audit()
