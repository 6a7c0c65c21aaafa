"""The surveys pages through the test client: a survey made with the form is the API's survey,
edits change it, bad input comes back on the page, viewers read without edit controls and
cannot post, posts without the form token are refused, the previews stand alone under their
own policy, the list's counts are the API's, and "send a test to me" reaches a real SMTP sink
with links that record nothing."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from service.db import db
from surveys.accounts.roles import Role
from surveys.models import Invitation, Person, SurveyResponse
from tests.app.conftest import TeamClient, add_user
from tests.conftest import Api, make_project

FORM = {
    "name": "Quarterly NPS",
    "product_name": "Acme",
    "active": "y",
    "channels": ["email", "widget"],
    "cadence_days": "60",
    "first_delay_days": "3",
    "sample_rate": "0.5",
    "min_age_days": "14",
    "reminder_after_days": "",
    "send_window_start": "10:00",
    "send_window_end": "16:00",
    "texts-0-locale": "en",
    "texts-0-question": "Would you recommend {product} to a colleague?",
    "texts-0-email_subject": "One question about {product}",
    "texts-0-email_intro": "",
    "texts-0-promoter": "",
    "texts-0-passive": "",
    "texts-0-detractor": "What should we fix first?",
    "texts-1-locale": "ru",
    "texts-1-question": "Порекомендуете ли вы {product}?",
    "preview_locale": "en",
}


def signed_in(app, project_id: int, role: Role, email: str | None = None) -> TeamClient:
    member = add_user(app, project_id, email or f"{role.value}@acme.test", role)
    team = TeamClient(app.test_client())
    assert team.sign_in(member.email).status_code == 302
    return team


@pytest.fixture
def editor_team(app, project) -> TeamClient:
    return signed_in(app, project.id, Role.EDITOR)


def create(team: TeamClient, form: dict | None = None) -> int:
    team.get("/app/surveys/new")
    r = team.post("/app/surveys/new", form or FORM)
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(re.search(r"/app/surveys/(\d+)$", r.headers["Location"]).group(1))


def test_a_survey_made_with_the_form_is_the_apis_survey(app, client, project, editor_team):
    survey_id = create(editor_team)
    got = Api(client, project).get(f"/api/v1/surveys/{survey_id}").get_json()
    assert got["name"] == "Quarterly NPS" and got["product_name"] == "Acme"
    assert got["active"] is True and got["channels"] == ["email", "widget"]
    assert got["cadence_days"] == 60 and got["first_delay_days"] == 3
    assert got["sample_rate"] == 0.5 and got["min_age_days"] == 14
    assert got["reminder_after_days"] is None
    assert got["send_window"] == {"start": "10:00", "end": "16:00"}
    assert got["question"] == {
        "en": "Would you recommend {product} to a colleague?",
        "ru": "Порекомендуете ли вы {product}?",
    }
    assert got["email_subject"] == {"en": "One question about {product}"}
    assert got["email_intro"] == {}
    assert got["followup"] == {"detractor": {"en": "What should we fix first?"}}

    page = editor_team.get(f"/app/surveys/{survey_id}").get_data(as_text=True)
    assert "Survey “Quarterly NPS” created." in page
    assert 'value="Порекомендуете ли вы {product}?"' not in page  # a textarea, escaped text
    assert "Порекомендуете ли вы {product}?</textarea>" in page


def test_editing_changes_the_survey(app, client, project, editor_team):
    survey_id = create(editor_team)
    editor_team.get(f"/app/surveys/{survey_id}")
    changed = {**FORM, "name": "Renamed", "channels": ["link"], "cadence_days": "30"}
    changed.pop("active")  # unticked: closes the survey
    changed.update({"texts-1-locale": "", "send_window_start": "", "send_window_end": ""})
    changed["reminder_after_days"] = "5"
    r = editor_team.post(f"/app/surveys/{survey_id}", changed)
    assert r.status_code == 302
    got = Api(client, project).get(f"/api/v1/surveys/{survey_id}").get_json()
    assert got["name"] == "Renamed" and got["active"] is False and got["channels"] == ["link"]
    assert got["cadence_days"] == 30 and got["reminder_after_days"] == 5
    assert got["send_window"] is None
    assert got["question"] == {"en": "Would you recommend {product} to a colleague?"}
    assert "Survey saved." in editor_team.get(f"/app/surveys/{survey_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "This field is required."),
        (
            {"cadence_days": "0"},
            "Must be greater than or equal to 1 and less than or equal to 3650.",
        ),
        ({"cadence_days": "often"}, "Not a valid integer value."),
        (
            {"sample_rate": "1.5"},
            "Must be greater than or equal to 0.0 and less than or equal to 1.0.",
        ),
        ({"sample_rate": "nan"}, "Special numeric values (nan or infinity) are not permitted."),
        ({"channels": []}, "Choose at least one channel."),
        ({"channels": ["fax"]}, "Must be one of: email, widget, link."),
        ({"send_window_start": "16:00", "send_window_end": "10:00"}, "Start must be before end."),
        ({"send_window_start": "25:00"}, "Expected HH:MM (24-hour)."),
        ({"texts-1-locale": "en"}, "This locale has a row above already."),
        ({"texts-1-locale": "x"}, "Locale: Length must be between 2 and 35."),
        ({"texts-0-email_subject": "two\nlines"}, "Must be one line without control characters"),
        ({"texts-0-detractor": "x" * 1001}, "Longer than maximum length 1000."),
    ],
)
def test_bad_input_comes_back_on_the_page(app, client, project, editor_team, change, message):
    editor_team.get("/app/surveys/new")
    r = editor_team.post("/app/surveys/new", {**FORM, **change})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert message in page.replace("&#34;", '"').replace("&#39;", "'")
    assert 'aria-invalid="true"' in page or "has-error" in page
    listed = Api(client, project).get("/api/v1/surveys").get_json()
    assert listed["items"] == []


def test_a_refused_edit_keeps_the_survey(app, client, project, editor_team):
    survey_id = create(editor_team)
    editor_team.get(f"/app/surveys/{survey_id}")
    r = editor_team.post(f"/app/surveys/{survey_id}", {**FORM, "send_window_end": ""})
    assert r.status_code == 422
    assert "Set both times, or neither for any time of day." in r.get_data(as_text=True)
    got = Api(client, project).get(f"/api/v1/surveys/{survey_id}").get_json()
    assert got["send_window"] == {"start": "10:00", "end": "16:00"}


def test_adding_a_locale_row_saves_nothing(app, client, project, editor_team):
    editor_team.get("/app/surveys/new")
    r = editor_team.post("/app/surveys/new", {**FORM, "add_locale": "1"})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'name="texts-2-locale"' in page and "A new locale" in page
    assert 'name="texts-3-locale"' not in page
    assert "Порекомендуете ли вы {product}?</textarea>" in page  # what was typed stays
    assert Api(client, project).get("/api/v1/surveys").get_json()["items"] == []


def test_a_viewer_reads_without_edit_controls_and_cannot_post(app, project, editor_team):
    survey_id = create(editor_team)
    viewer = signed_in(app, project.id, Role.VIEWER)
    listing = viewer.get("/app/surveys").get_data(as_text=True)
    assert "Quarterly NPS" in listing and "New survey" not in listing
    page = viewer.get(f"/app/surveys/{survey_id}").get_data(as_text=True)
    assert "<form" not in page.split("<main", 1)[1].split("</main>")[0]
    assert "Send a test to me" not in page and "Add a locale" not in page
    assert f"/app/surveys/{survey_id}/preview/email" in page  # the previews, read only
    assert viewer.get(f"/app/surveys/{survey_id}/preview/widget").status_code == 200
    assert viewer.post("/app/surveys/new", FORM).status_code == 403
    assert viewer.post(f"/app/surveys/{survey_id}", {**FORM, "name": "Mine"}).status_code == 403
    assert viewer.post(f"/app/surveys/{survey_id}/test").status_code == 403
    assert viewer.post("/app/surveys/preview/email", FORM).status_code == 403
    assert viewer.get("/app/surveys/new").status_code == 403  # a form to make one: editors
    with app.app_context():
        from surveys.models import Survey

        assert db().get(Survey, survey_id).name == "Quarterly NPS"


def test_a_post_without_the_form_token_is_refused(app, client, project, editor_team):
    editor_team.get("/app/surveys/new")
    r = editor_team.post("/app/surveys/new", FORM, token=False)
    assert r.status_code == 400
    assert "This form could not be accepted" in r.get_data(as_text=True)
    assert Api(client, project).get("/api/v1/surveys").get_json()["items"] == []


def test_another_projects_survey_is_not_found(app, project, editor_team):
    other = make_project(app, "Other Corp")
    theirs = signed_in(app, other.id, Role.EDITOR, "them@other.test")
    survey_id = create(theirs)
    for path in ("", "/preview/email", "/preview/widget", "/test-answer?score=3"):
        assert editor_team.get(f"/app/surveys/{survey_id}{path}").status_code == 404
    editor_team.get("/app/surveys/new")
    assert editor_team.post(f"/app/surveys/{survey_id}", FORM).status_code == 404
    assert editor_team.post(f"/app/surveys/{survey_id}/test").status_code == 404


def test_previews_stand_alone_under_their_own_policy(app, project, editor_team):
    survey_id = create(editor_team)
    email = editor_team.get(f"/app/surveys/{survey_id}/preview/email?locale=ru")
    assert email.status_code == 200
    policy = email.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "frame-ancestors 'self'" in policy and "script-src" not in policy
    assert email.headers["X-Frame-Options"] == "SAMEORIGIN"
    text = email.get_data(as_text=True)
    assert "Порекомендуете ли вы Acme?" in text and "<script" not in text
    widget = editor_team.get(f"/app/surveys/{survey_id}/preview/widget").get_data(as_text=True)
    assert "Would you recommend Acme to a colleague?" in widget
    assert "What should we fix first?" in widget  # the detractors' follow-up
    assert "Great to hear! What do you like most about Acme?" in widget  # built-in
    # The form's unsaved values, as the page's script and Preview buttons post them.
    editor_team.get(f"/app/surveys/{survey_id}")
    unsaved = {**FORM, "texts-0-email_subject": "Not saved <b>yet</b>", "product_name": "Zed"}
    posted = editor_team.post("/app/surveys/preview/email", unsaved)
    assert posted.headers["Content-Security-Policy"] == policy
    posted_html = posted.get_data(as_text=True)
    assert "<title>Not saved &lt;b&gt;yet&lt;/b&gt;</title>" in posted_html
    assert "<strong>Subject:</strong> Not saved &lt;b&gt;yet&lt;/b&gt;</p>" in posted_html
    assert '<body style="margin:0;padding:0;background:#f4f5f7;"><p style=' in posted_html
    builtin = editor_team.get("/app/surveys/preview/widget?locale=zh").get_data(as_text=True)
    assert "您有多大可能向朋友或同事推荐我们？" in builtin
    # Every other page keeps the strict policy and refuses to be framed.
    page = editor_team.get(f"/app/surveys/{survey_id}")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


# Five invitations: three sent (two answered), one bounced, one still scheduled.
OUTBOX = [
    ("sent", None, True),
    ("sent", None, True),
    ("sent", None, False),
    ("failed", "bounce: 550 no such user", False),
    ("scheduled", None, False),
]


def add_invitations(app, project_id: int, survey_id: int, rows) -> None:
    """Outbox rows as the worker leaves them, each for a new person."""
    now = datetime(2026, 1, 5, 10, 0)
    with app.app_context():
        start = db().query(Person).filter_by(project_id=project_id).count()
        for i, (status, error, answered) in enumerate(rows, start):
            person = Person(project_id=project_id, email=f"p{i}@x.test")
            db().add(person)
            db().flush()
            db().add(
                Invitation(
                    project_id=project_id,
                    survey_id=survey_id,
                    person_id=person.id,
                    window_key="2026Q1",
                    status=status,
                    error=error,
                    due_at=now,
                    responded_at=now if answered else None,
                )
            )
        db().commit()


def test_the_lists_counts_are_the_apis(app, client, project, editor_team):
    survey_id = create(editor_team)
    add_invitations(app, project.id, survey_id, OUTBOX)
    api = Api(client, project).get(f"/api/v1/surveys/{survey_id}/invitations/stats").get_json()
    page = editor_team.get("/app/surveys").get_data(as_text=True)
    shown = dict(re.findall(r'data-metric="(\w+)" data-value="([^"]*)"', page))
    assert api["bounced"] == 1 and api["responded"] == 2  # hand-counted from the rows above
    assert shown == {
        "scheduled": "1",
        "sent": "3",
        "bounced": "1",
        "responded": "2",
        "response_rate": str(api["response_rate"]),
    }
    assert api["response_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert "66.7%" in page
    edit = editor_team.get(f"/app/surveys/{survey_id}").get_data(as_text=True)
    assert 'data-metric="failed" data-value="1"' in edit


def test_the_snippet_says_where_the_key_goes(app, project, editor_team):
    survey_id = create(editor_team)
    page = editor_team.get(f"/app/surveys/{survey_id}").get_data(as_text=True)
    assert (
        "&lt;script src=&#34;http://flywheel.test/widget.js&#34; "
        "data-key=&#34;YOUR_PUBLISHABLE_KEY&#34; async&gt;&lt;/script&gt;"
    ) in page
    assert project.publishable_key not in page
    assert f'flywheel("show", {{survey_id: {survey_id}}})' in page


def test_a_test_email_arrives_and_its_links_record_nothing(mail_app, smtp_sink):
    keys = make_project(mail_app)
    team = signed_in(mail_app, keys.id, Role.EDITOR, "ed@acme.test")
    survey_id = create(team)
    team.get(f"/app/surveys/{survey_id}")
    r = team.post(f"/app/surveys/{survey_id}/test", {"preview_locale": "ru"})
    assert r.status_code == 302
    page = team.get(f"/app/surveys/{survey_id}").get_data(as_text=True)
    assert "A test of the saved survey was sent to ed@acme.test." in page

    (received,) = smtp_sink.received
    assert received.rcpt_tos == ["ed@acme.test"]
    message = received.message
    assert message["Subject"].startswith("[Test] ")
    assert message["Content-Language"] == "ru"
    text = message.get_body(("plain",)).get_content()
    assert "Порекомендуете ли вы Acme?" in text
    links = re.findall(r"http://flywheel\.test(/\S+)", text)
    score_links = [link for link in links if "score=" in link]
    assert len(score_links) == 11
    assert all(link.startswith(f"/app/surveys/{survey_id}/test-answer") for link in links)
    answered = team.get(score_links[7]).get_data(as_text=True)
    assert "You clicked 7 in a test email" in answered and "Nothing was recorded" in answered
    with mail_app.app_context():
        assert db().query(SurveyResponse).count() == 0
        assert db().query(Invitation).count() == 0
        assert db().query(Person).count() == 0


def test_a_test_email_the_server_refuses_says_so(mail_app, smtp_sink):
    keys = make_project(mail_app)
    team = signed_in(mail_app, keys.id, Role.EDITOR, "refused@acme.test")
    smtp_sink.refuse["refused@acme.test"] = "550 no such user"
    survey_id = create(team)
    team.get(f"/app/surveys/{survey_id}")
    assert team.post(f"/app/surveys/{survey_id}/test").status_code == 302
    page = team.get(f"/app/surveys/{survey_id}").get_data(as_text=True)
    assert "The test email to refused@acme.test could not be sent." in page
    assert smtp_sink.received == []


def test_test_emails_are_limited_per_member(mail_app, smtp_sink):
    mail_app.config["TEST_EMAILS"] = "2/hour"
    keys = make_project(mail_app)
    team = signed_in(mail_app, keys.id, Role.EDITOR, "ed@acme.test")
    survey_id = create(team)
    team.get(f"/app/surveys/{survey_id}")
    for _ in range(2):
        assert team.post(f"/app/surveys/{survey_id}/test").status_code == 302
    refused = team.post(f"/app/surveys/{survey_id}/test")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    text = refused.get_data(as_text=True)
    assert "You have sent enough test emails for now" in text and "Try again in" in text
    # The way back leads to the survey, not away from it.
    assert f'href="/app/surveys/{survey_id}">Back to the survey</a>' in text
    assert len(smtp_sink.received) == 2
    # The budget is the member's: a colleague still sends one.
    other = signed_in(mail_app, keys.id, Role.EDITOR, "other@acme.test")
    other.get(f"/app/surveys/{survey_id}")
    assert other.post(f"/app/surveys/{survey_id}/test").status_code == 302
    assert [r.rcpt_tos for r in smtp_sink.received][-1] == ["other@acme.test"]
