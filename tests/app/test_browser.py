"""The team app in real headless Chromium: signing in by the labelled fields, switching
project, signing out, invitation and reset emails through a real SMTP sink whose links work
once, two-factor sign-in, the keyboard and a phone's width; axe-core finds nothing on any page
and the Content-Security-Policy blocks nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import pytest
from playwright.sync_api import Page, expect

from surveys.accounts.roles import Role
from tests.app.conftest import PASSWORD, add_user, mailed_link
from tests.conftest import make_project
from tests.live import serve_app
from tests.widget.browser import AXE_JS

NEW_PASSWORD = "a long new passphrase"


@pytest.fixture
def site(mail_app):
    with serve_app(mail_app) as url:
        yield url


class Visit:
    """A browser tab that remembers every CSP complaint and audits pages with axe-core."""

    def __init__(self, page: Page, site: str) -> None:
        self.page, self.site = page, site
        self.csp_errors: list[str] = []
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_errors.append(message.text)

    def go(self, path: str) -> Page:
        self.page.goto(self.site + path)
        return self.page

    def audit(self) -> None:
        """axe-core over the whole page: no violation of any rule it runs."""
        self.page.evaluate(AXE_JS.read_text() + "\n;0")
        result = self.page.evaluate("() => axe.run(document)")
        violations = [
            (v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]
        ]
        assert violations == [], (self.page.url, violations)
        assert self.csp_errors == [], self.csp_errors

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()


def visit(browser, site: str, **context) -> Visit:
    return Visit(browser.new_context(**context).new_page(), site)


def signed_in(browser, site: str, email: str) -> Visit:
    """A new tab of a new browser, signed in and on the overview."""
    tab = visit(browser, site)
    tab.go("/app/sign-in")
    tab.sign_in(email)
    tab.page.wait_for_url(f"{site}/app/")
    return tab


def test_sign_in_switch_project_and_sign_out(mail_app, site, browser):
    acme, beta = make_project(mail_app, "Acme"), make_project(mail_app, "Beta product")
    owner = add_user(mail_app, acme.id, "owner@acme.test", Role.OWNER)
    add_user(mail_app, beta.id, owner.email, Role.VIEWER, password=None)
    tab = visit(browser, site)

    tab.go("/app/users")  # signed out: sent to sign in, and back here after
    assert tab.page.url == f"{site}/app/sign-in?next=%2Fapp%2Fusers"
    tab.audit()
    tab.sign_in(owner.email, "wrong password")
    expect(tab.page.get_by_text("That email and password do not match an account.")).to_be_visible()
    tab.audit()
    tab.sign_in(owner.email)
    tab.page.wait_for_url(f"{site}/app/users")
    expect(tab.page.get_by_role("heading", name="Users")).to_be_visible()
    tab.audit()

    tab.page.get_by_label("Project").select_option(label="Beta product")
    tab.page.get_by_role("button", name="Switch").click()
    tab.page.wait_for_url(f"{site}/app/")
    expect(tab.page.get_by_text("Now showing Beta product.")).to_be_visible()
    assert tab.page.locator("main .lede").inner_text() == "Beta product"
    # A viewer in Beta: no Users or Settings entry in the menu.
    menu = tab.page.get_by_role("navigation", name="Main").get_by_role("link")
    assert menu.all_inner_texts() == [
        "Overview",
        "Friction points",
        "Responses",
        "Movement",
        "Surveys",
        "Export",
        "Alerts",
        "Digest",
    ]
    tab.audit()
    tab.go("/app/users")
    expect(tab.page.get_by_role("heading", name="Not allowed")).to_be_visible()
    tab.audit()

    tab.page.get_by_role("link", name="owner@acme.test").click()
    tab.page.wait_for_url(f"{site}/app/account")
    tab.audit()
    tab.page.get_by_role("link", name="Set up two-factor sign-in").click()
    tab.page.wait_for_url(f"{site}/app/account/two-factor")
    qr = tab.page.get_by_role("img", name="QR code with the key for your authenticator app")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    tab.audit()

    tab.go("/app/no-such-page")
    expect(tab.page.get_by_role("heading", name="Page not found")).to_be_visible()
    tab.audit()

    tab.page.get_by_role("button", name="Sign out", exact=True).click()
    tab.page.wait_for_url(f"{site}/app/sign-in")
    expect(tab.page.get_by_text("You are signed out.")).to_be_visible()
    tab.go("/app/")
    assert tab.page.url.startswith(f"{site}/app/sign-in?next=")


def test_an_invitation_email_link_works_once(mail_app, smtp_sink, site, browser):
    keys = make_project(mail_app, "Acme")
    owner = add_user(mail_app, keys.id, "owner@acme.test", Role.OWNER)
    tab = signed_in(browser, site, owner.email)
    tab.page.get_by_role("link", name="Users").click()
    tab.page.get_by_label("Email").fill("new@acme.test")
    tab.page.get_by_label("Role", exact=True).select_option("editor")
    tab.page.get_by_role("button", name="Send invitation").click()
    expect(tab.page.get_by_text("Invitation sent to new@acme.test.")).to_be_visible()
    tab.audit()

    path = mailed_link(smtp_sink, "new@acme.test")
    invited = visit(browser, site)
    invited.go(path)
    expect(invited.page.get_by_role("heading", name="Welcome to Flywheel")).to_be_visible()
    invited.audit()
    invited.page.get_by_label("New password").fill("too short")
    invited.page.get_by_label("Confirm the password").fill("too short")
    invited.page.get_by_role("button", name="Save and sign in").click()
    expect(invited.page.get_by_text("Must be at least 10 characters.")).to_be_visible()
    invited.audit()
    invited.page.get_by_label("New password").fill(NEW_PASSWORD)
    invited.page.get_by_label("Confirm the password").fill(NEW_PASSWORD)
    invited.page.get_by_role("button", name="Save and sign in").click()
    invited.page.wait_for_url(f"{site}/app/")
    expect(invited.page.get_by_text("Your password is set.")).to_be_visible()

    invited.go(path)
    expect(invited.page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(invited.page.get_by_text("This link was used already")).to_be_visible()
    invited.audit()


def test_a_password_reset_email_link_works_once(mail_app, smtp_sink, site, browser):
    keys = make_project(mail_app, "Acme")
    member = add_user(mail_app, keys.id, "forgetful@acme.test", Role.VIEWER)
    tab = visit(browser, site)
    tab.go("/app/sign-in")
    tab.page.get_by_role("link", name="Forgot your password?").click()
    tab.audit()
    tab.page.get_by_label("Email").fill(member.email)
    tab.page.get_by_role("button", name="Send the link").click()
    expect(tab.page.get_by_role("heading", name="Check your email")).to_be_visible()
    tab.audit()

    path = mailed_link(smtp_sink, member.email)
    tab.go(path)
    expect(tab.page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    tab.audit()
    tab.page.get_by_label("New password").fill(NEW_PASSWORD)
    tab.page.get_by_label("Confirm the password").fill(NEW_PASSWORD)
    tab.page.get_by_role("button", name="Save and sign in").click()
    tab.page.wait_for_url(f"{site}/app/")
    tab.page.get_by_role("button", name="Sign out", exact=True).click()
    tab.go(path)
    expect(tab.page.get_by_text("This link was used already")).to_be_visible()
    tab.go("/app/sign-in")
    tab.sign_in(member.email, NEW_PASSWORD)
    tab.page.wait_for_url(f"{site}/app/")


def test_two_factor_set_up_and_sign_in_with_a_code(mail_app, site, browser):
    keys = make_project(mail_app, "Acme")
    member = add_user(mail_app, keys.id, "careful@acme.test", Role.EDITOR)
    tab = signed_in(browser, site, member.email)
    tab.go("/app/account/two-factor")
    totp = pyotp.TOTP(tab.page.locator(".key code").inner_text().replace(" ", ""))
    tab.page.get_by_label("Code from your authenticator app").fill(totp.now())
    tab.page.get_by_role("button", name="Turn on two-factor sign-in").click()
    tab.page.wait_for_url(f"{site}/app/account")
    expect(tab.page.get_by_text("Two-factor sign-in is on").first).to_be_visible()
    tab.page.get_by_role("button", name="Sign out", exact=True).click()

    tab.sign_in(member.email)
    tab.page.wait_for_url(f"{site}/app/sign-in/code")
    tab.audit()
    tab.page.get_by_label("Code from your authenticator app").fill("000000")
    tab.page.get_by_role("button", name="Sign in").click()
    expect(tab.page.get_by_text("That code is not right.")).to_be_visible()
    tab.audit()
    # The code that turned it on is spent: the next one is waited for, as a person would.
    spent = totp.timecode(datetime.now(UTC))
    tab.page.wait_for_function(f"() => Math.floor(Date.now() / 30000) > {spent}", timeout=45_000)
    tab.page.get_by_label("Code from your authenticator app").fill(totp.now())
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url(f"{site}/app/")
    tab.go("/app/account/two-factor")
    tab.audit()


def test_keyboard_and_phone_width(mail_app, site, browser):
    keys = make_project(mail_app, "A project with a rather long name for a phone")
    owner = add_user(mail_app, keys.id, "someone.with.a.long.address@acme.test", Role.OWNER)
    add_user(mail_app, keys.id, "another.member.with.a.long.address@example.org", Role.VIEWER)
    # Not emulating a phone's zoom-out: a page wider than the screen would hide behind it.
    tab = visit(browser, site, viewport={"width": 375, "height": 740})
    tab.go("/app/sign-in")
    # The first Tab shows the skip link; it moves focus to the content.
    tab.page.keyboard.press("Tab")
    skip = tab.page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("a => a === document.activeElement")
    assert skip.bounding_box()["y"] >= 0
    assert skip.evaluate("a => getComputedStyle(a).outlineStyle") != "none"
    # Keyboard only: type, Tab to the password, Enter to sign in.
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.type(owner.email)
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.type(PASSWORD)
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(f"{site}/app/")
    for path in ("/app/", "/app/users", "/app/account", "/app/account/two-factor"):
        tab.go(path)
        overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        tab.audit()


def test_the_pages_that_explain_a_refusal(mail_app, site, browser):
    keys = make_project(mail_app, "Acme")
    member = add_user(mail_app, keys.id, "leaver@acme.test", Role.OWNER)
    add_user(mail_app, keys.id, "stayer@acme.test", Role.OWNER)
    with mail_app.app_context():
        from service.db import db
        from surveys.accounts.users import remove_member

        remove_member(db(), keys.id, member.id)
        db().commit()
    tab = visit(browser, site)
    tab.go("/app/sign-in")
    tab.sign_in(member.email)
    expect(tab.page.get_by_role("heading", name="No project yet")).to_be_visible()
    tab.audit()

    # A form whose token was tampered with, as a forged post from another site would be.
    tab.go("/app/account")
    tab.page.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'forged')"
    )
    tab.page.get_by_role("button", name="Sign out everywhere else").click()
    expect(tab.page.get_by_role("heading", name="This form could not be accepted")).to_be_visible()
    tab.audit()
