"""The score link in real headless Chromium: the auto-submit records exactly one response,
and the follow-up comment is saved into it."""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from service.db import db
from service.tokens import score_token
from surveys.models import Invitation, SurveyResponse
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.email.conftest import create_person, create_survey, run_schedule
from tests.live import serve_app


@pytest.fixture
def live_server(mail_app):
    with serve_app(mail_app) as base:
        yield base


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_auto_submit_records_exactly_one_response(mail_app, mail_api, live_server, browser):
    create_survey(mail_api)
    create_person(mail_api, "ann", locale="en")
    run_schedule(mail_app)
    with mail_app.app_context():
        invitation_id = db().scalar(select(Invitation.id))
        token = score_token(invitation_id)

    page = browser.new_page()
    page.goto(f"{live_server}/r/{token}?score=8")
    page.wait_for_url(f"{live_server}/r/{token}/more")
    assert "Thank you! Your answer: 8." in page.content()
    page.get_by_label("Thanks! What would make Acme better for you?").fill("More <reports>")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{live_server}/r/{token}/thanks")
    assert page.get_by_text("More <reports>").is_visible()

    # Back to the link: the recorded score is selected and not posted again.
    page.goto(f"{live_server}/r/{token}?score=8")
    assert page.get_by_label("8", exact=True).is_checked()
    assert page.url == f"{live_server}/r/{token}?score=8"

    # Keyboard only: choose 10 with the arrow keys and save with Enter.
    page.get_by_label("8", exact=True).focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/r/{token}/more")
    page.close()

    with mail_app.app_context():
        responses = list(db().scalars(select(SurveyResponse)))
    assert [(r.score, r.comment, r.channel, r.invitation_id) for r in responses] == [
        (10, "More <reports>", "email", invitation_id)
    ]


def one_score_link(app, api, external_id: str) -> str:
    """The score token of a survey's one invitation, to a new person."""
    create_survey(api)
    create_person(api, external_id)
    run_schedule(app)
    with app.app_context():
        return score_token(db().scalar(select(Invitation.id)))


def test_without_script_the_button_records(mail_app, mail_api, live_server, browser):
    token = one_score_link(mail_app, mail_api, "bob")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/r/{token}?score=3")
    assert page.url.endswith("?score=3")
    with mail_app.app_context():
        assert db().scalar(select(SurveyResponse)) is None
    page.get_by_role("button", name="Save my answer").click()
    page.wait_for_url(f"{live_server}/r/{token}/more")
    context.close()
    with mail_app.app_context():
        assert [r.score for r in db().scalars(select(SurveyResponse))] == [3]


def test_another_site_cannot_frame_a_score_link(mail_app, mail_api, live_server, browser):
    # Framed, the page's own script would post the clicked score: a click-jacking site could
    # record answers (or an unsubscribe) for whoever's link it got.
    token = one_score_link(mail_app, mail_api, "eve")
    framed = f"{live_server}/r/{token}?score=0"

    def hostile(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        return [f'<iframe src="{framed}"></iframe>'.encode()]

    other_origin = make_server("127.0.0.1", 0, hostile)
    thread = threading.Thread(target=other_origin.serve_forever, daemon=True)
    thread.start()
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{other_origin.server_port}/")
    page.wait_for_load_state("load")
    page.wait_for_timeout(1000)  # time enough for the script in a loaded frame to post
    [frame] = page.main_frame.child_frames
    assert not frame.url.startswith(live_server), frame.url
    page.close()
    other_origin.shutdown()
    thread.join(timeout=5)
    with mail_app.app_context():
        assert list(db().scalars(select(SurveyResponse))) == []
