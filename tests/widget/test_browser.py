"""End to end in real headless Chromium: a host page with hostile CSS and a strict CSP embeds the
snippet; the widget is answered with the keyboard alone, saved, audited with axe-core, and does
not come back on reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from service.db import db
from surveys.keys import user_hash
from surveys.models import Display, SurveyResponse
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.live import serve_app
from tests.widget.browser import AXE_JS, serve_host
from tests.widget.conftest import OLD_CUSTOMER

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CARD = "flywheel-widget .card"
IDENTITY = {
    "external_id": "u-42",
    "email": "ann@example.com",
    "name": "Ann",
    "locale": "en-GB",
    "created_at": OLD_CUSTOMER,
    "properties": {"plan": "pro"},
}


def signed(project) -> dict:
    """The identity as the host's server renders it: with the user_hash it computed."""
    return {**IDENTITY, "user_hash": user_hash(project.identity_secret, IDENTITY["external_id"])}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(app, api, project, survey):
    """(host page URL, API origin) with the host's origin allowed by the project."""
    with (
        serve_app(app) as api_origin,
        serve_host(
            api_origin,
            project.publishable_key,
            json.dumps(signed(project)),
        ) as host,
    ):
        r = api.patch("/api/v1/project", json={"allowed_origins": [host]})
        assert r.status_code == 200
        yield host, api_origin


def shadow(page, script: str):
    """Evaluate `script` with `root` bound to the widget's shadow root."""
    return page.evaluate(
        f"() => {{ const root = document.querySelector('flywheel-widget').shadowRoot; "
        f"return {script}; }}"
    )


def focused(page) -> str:
    return shadow(
        page,
        "root.activeElement ? root.activeElement.tagName.toLowerCase() + ':' + "
        "(root.activeElement.value || root.activeElement.className) : ''",
    )


def audit(page) -> list:
    # Colour contrast is judged on the final look, not halfway through the card's fade-in.
    page.wait_for_function(
        "() => document.querySelector('flywheel-widget').shadowRoot.getAnimations().length === 0"
    )
    page.evaluate(AXE_JS.read_text() + "\n;0")
    result = page.evaluate("() => axe.run(document.querySelector('flywheel-widget'))")
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]


def tab_into_widget(page) -> None:
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "FLYWHEEL-WIDGET":
            return
    raise AssertionError("Tab never reached the widget")


def test_keyboard_only_answer_in_a_hostile_page(app, browser, site):
    host, api_origin = site
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(host)
    card = page.locator(CARD)
    card.wait_for(state="visible", timeout=10_000)

    # Host CSS did not restyle the widget, and the widget's CSS did not leak into the host.
    looks = shadow(
        page,
        "(() => { const q = getComputedStyle(root.querySelector('#q')); "
        "const send = getComputedStyle(root.querySelector('.send')); "
        "const box = root.querySelector('.card').getBoundingClientRect(); "
        "return {font: q.fontFamily, spacing: q.letterSpacing, send: send.display, "
        "bg: send.backgroundColor, width: box.width, right: box.right, bottom: box.bottom, "
        "opacity: getComputedStyle(root.host).opacity, radios: root.querySelectorAll("
        "'input[type=radio]').length}; })()",
    )
    assert looks["font"].startswith("system-ui") and looks["spacing"] == "normal"
    assert looks["send"] != "none" and looks["bg"] == "rgb(33, 80, 200)"
    assert looks["width"] <= 384 and looks["opacity"] == "1" and looks["radios"] == 11
    assert 1280 - 40 <= looks["right"] <= 1280 and 800 - 40 <= looks["bottom"] <= 800
    host_card = page.evaluate("getComputedStyle(document.getElementById('host-card')).borderRadius")
    assert host_card == "0px"
    # The question is announced through a live region.
    page.wait_for_function(
        "() => document.querySelector('flywheel-widget').shadowRoot"
        ".querySelector('[role=status]').textContent.includes('How likely')"
    )
    page.screenshot(path=str(ARTIFACTS / "widget-open.png"))
    card.screenshot(path=str(ARTIFACTS / "widget-card.png"))
    assert audit(page) == []

    # Keyboard alone: Tab into the scale, arrows to 9, Enter; type the comment; Tab, Enter.
    tab_into_widget(page)
    assert focused(page) == "input:0"
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    assert shadow(page, "root.querySelector('input:checked').value") == "9"
    page.keyboard.press("Enter")
    page.locator("flywheel-widget textarea").wait_for(state="visible")
    assert focused(page).startswith("textarea")
    assert "What do you like most" in shadow(page, "root.querySelector('#q').textContent")
    assert audit(page) == []
    page.keyboard.type("Fast and simple — 很好")
    page.keyboard.press("Tab")
    assert focused(page) == "button:send"
    page.keyboard.press("Enter")
    page.locator("flywheel-widget [role=status]#q").wait_for(state="visible")
    card.wait_for(state="detached", timeout=10_000)

    with app.app_context():
        rows = db().scalars(select(SurveyResponse)).all()
        assert [(r.score, r.comment, r.channel) for r in rows] == [
            (9, "Fast and simple — 很好", "widget")
        ]
        assert rows[0].display_id is not None and rows[0].properties == {"plan": "pro"}

    # Reload: the widget does not come back, not even when the browser forgets its snooze.
    visits: list[str] = []
    page.on("request", lambda r: visits.append(r.url) if "/w/v1/visits" in r.url else None)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator(CARD).count() == 0 and visits == []
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert page.locator(CARD).count() == 0 and len(visits) == 1
    assert page.evaluate("window.cspViolations") == []
    assert errors == []
    context.close()


def test_escape_dismisses(app, browser, site):
    host, _ = site
    context = browser.new_context()
    page = context.new_page()
    page.goto(host)
    page.locator(CARD).wait_for(state="visible", timeout=10_000)
    tab_into_widget(page)
    # Wait for the dismissal's answer itself: on a loaded machine the network can look idle
    # before the request is even sent.
    with page.expect_response(lambda r: "/w/v1/dismissals" in r.url) as dismissed:
        page.keyboard.press("Escape")
    assert dismissed.value.status == 200
    page.locator(CARD).wait_for(state="detached")
    with app.app_context():
        display = db().scalar(select(Display))
        assert display.dismissed_at is not None and display.responded_at is None
    context.close()


def test_feedback_form_on_a_small_dark_screen(app, browser, site):
    host, _ = site
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(
        viewport={"width": 375, "height": 700}, color_scheme="dark", reduced_motion="reduce"
    )
    page = context.new_page()
    page.goto(host)
    page.locator(CARD).wait_for(state="visible", timeout=10_000)
    # Close the survey from the keyboard, then open feedback from the host's own button.
    tab_into_widget(page)
    page.keyboard.press("Escape")
    page.locator(CARD).wait_for(state="detached")
    page.locator("#feedback").focus()
    page.keyboard.press("Enter")
    page.locator("flywheel-widget select").wait_for(state="visible")
    sheet = shadow(
        page,
        "(() => { const c = root.querySelector('.card'); const b = c.getBoundingClientRect(); "
        "return {width: b.width, bottom: b.bottom, bg: getComputedStyle(c).backgroundColor, "
        "anim: getComputedStyle(c).animationName}; })()",
    )
    assert sheet == {"width": 375, "bottom": 700, "bg": "rgb(31, 34, 39)", "anim": "none"}
    assert focused(page).startswith("textarea")
    page.screenshot(path=str(ARTIFACTS / "widget-feedback-mobile-dark.png"))
    assert audit(page) == []
    page.keyboard.type("Please add dark mode to reports")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("flywheel-widget [role=status]#q").wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    with app.app_context():
        row = db().scalar(select(SurveyResponse))
        assert (row.survey_id, row.score, row.channel) == (None, None, "widget")
        assert row.comment == "Please add dark mode to reports"
        assert row.page_url == host + "/" and row.category == "idea"
    context.close()
