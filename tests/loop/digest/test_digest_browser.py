"""The digest in real headless Chromium: the opt-in page passes axe-core and the
Content-Security-Policy, works by keyboard and at a phone's width; the digest email's HTML,
with its inline images, renders and shows every chart; the unsubscribe page's button works."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import expect

from service.worker.digests import send_due
from surveys.accounts.roles import Role
from tests.answers import answer
from tests.app.conftest import add_user
from tests.app.test_browser import signed_in, visit
from tests.live import serve_app
from tests.loop.digest.conftest import NOW, digests_to, html_of, subscribe

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def site(app):
    with serve_app(app) as url:
        yield url


def test_the_digest_page_by_keyboard_at_both_widths(app, site, browser, project, answers):
    member = add_user(app, project.id, "someone.with.a.long.address@acme.test", Role.VIEWER)
    tab = signed_in(browser, site, member.email)
    tab.go("/app/digest")
    tab.audit()
    tab.page.get_by_label("Digest email").select_option("weekly")
    tab.page.get_by_label("Digest email").focus()
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.press("Enter")
    expect(tab.page.locator('[data-metric="digest_cadence"]')).to_have_attribute(
        "data-value", "weekly"
    )
    tab.audit()
    ARTIFACTS.mkdir(exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / "digest-page-desktop.png"), full_page=True)
    phone = signed_in(browser, site, member.email)
    phone.page.set_viewport_size({"width": 375, "height": 740})
    phone.go("/app/digest")
    overflow = phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    phone.audit()
    phone.page.screenshot(path=str(ARTIFACTS / "digest-page-phone.png"), full_page=True)


def test_the_digest_email_renders_with_its_charts(
    app, api, site, browser, project, answers, smtp_sink
):
    # Five more weeks of answers, so that the trend has a shape.
    for week, scores in enumerate(
        ((10, 9, 6, 8, 3), (9, 9, 10, 7), (2, 6, 9, 8, 4, 10), (10, 10, 9, 7, 9), (6, 9, 10))
    ):
        for i, score in enumerate(scores):
            day = (
                f"2026-05-{11 + 7 * week + i % 5:02d}"
                if week < 3
                else f"2026-06-{1 + 7 * (week - 3) + i % 5:02d}"
            )
            answer(api, answers.data.survey_id, f"w{week}p{i}", score, f"{day}T10:00:00Z")
    subscribe(app, project.id, "lead@acme.test")
    with app.app_context():
        assert send_due(app, NOW) == 1
    [message] = digests_to(smtp_sink, "lead@acme.test")
    html = html_of(message)
    # What a mail client does with cid: links, done by hand: each image from its part.
    for part in message.walk():
        if part.get_content_type() == "image/png":
            data = base64.b64encode(part.get_content()).decode()
            cid = part["Content-ID"].strip("<>")
            html = html.replace(f"cid:{cid}", f"data:image/png;base64,{data}")
    page = browser.new_context(viewport={"width": 680, "height": 900}).new_page()
    page.set_content(html)
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert widths == [1120, 1120]
    assert page.get_by_role("img", name="NPS per week").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "digest.png"), full_page=True)

    # The unsubscribe link asks, and its button unsubscribes.
    url = message["List-Unsubscribe"].strip().strip("<>").replace("http://flywheel.test", site)
    tab = visit(browser, site)
    tab.page.goto(url)
    tab.page.get_by_role("button", name="Unsubscribe").click()
    expect(tab.page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
