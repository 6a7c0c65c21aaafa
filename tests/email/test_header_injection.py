"""Header injection: a name or survey text with line breaks is refused at every door, and one
already stored cannot split a header of the message the SMTP server receives."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from service.db import db
from surveys.models import Invitation, Person, Survey
from tests.email.conftest import create_person, create_survey, run_dispatch, run_schedule
from tests.widget.conftest import OLD_CUSTOMER, Widget

EVIL = "Eve\r\nX-Injected: 1\r\n\r\nINJECTED BODY"
# Control characters of every kind that a single-line text refuses.
BAD_NAMES = [EVIL, "Eve\nBcc: x@evil.test", "Eve\rx", "Eve\tx", "Eve\x00", "Eve\x7f"]
BAD_NAMES += ["Eve\x85x", "Eve\u2028x", "Eve\u2029x"]
HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Language",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Auto-Submitted",
    "Content-Type",
}


def _only_message(sink):
    [got] = sink.received
    assert got.rcpt_tos == ["eve@example.com"]
    message = got.message
    assert set(message.keys()) == HEADERS
    assert len(message.keys()) == len(HEADERS)
    assert message.defects == []
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html, str(message["To"]), str(message["Subject"])):
        assert "INJECTED" not in part and "X-Injected" not in part
    return message, text


def _refused(resp, field: str) -> None:
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"]["json"], error


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_with_control_characters_is_refused_by_the_api(mail_api, name):
    _refused(mail_api.post("/api/v1/people", json={"external_id": "e", "name": name}), "name")
    person = create_person(mail_api, "eve", name="Eve")
    _refused(mail_api.patch(f"/api/v1/people/{person['id']}", json={"name": name}), "name")
    batch = mail_api.post(
        "/api/v1/people/batch",
        json={"people": [{"external_id": "ok", "name": "Ok"}, {"external_id": "x", "name": name}]},
    )
    if "\x00" in name:
        # NUL cannot be stored at all, so it refuses the whole batch (tests/security).
        assert batch.status_code == 422
    else:
        assert batch.status_code == 200
        body = batch.get_json()
        assert (body["created"], body["failed"]) == (1, 1)
        assert [(e["index"], list(e["errors"])) for e in body["errors"]] == [(1, ["name"])]
    assert mail_api.get(f"/api/v1/people/{person['id']}").get_json()["name"] == "Eve"


def test_an_email_address_with_a_line_separator_is_refused(mail_api):
    _refused(
        mail_api.post("/api/v1/people", json={"external_id": "e", "email": "e@example.com\u2028"}),
        "email",
    )


def test_a_widget_visit_cannot_inject_headers_into_the_survey_email(mail_app, mail_api, smtp_sink):
    create_survey(mail_api)
    widget = Widget.of(mail_app.test_client(), mail_api.keys)
    identity = {"external_id": "eve", "email": "eve@example.com", "created_at": OLD_CUSTOMER}
    assert widget.visit(**identity, name="Eve").status_code == 200

    refused = widget.visit(**identity, name=EVIL)
    _refused(refused, "name")
    _refused(widget.post("feedback", {**identity, "name": EVIL, "comment": "hi"}), "name")

    assert run_schedule(mail_app).created == 1
    assert run_dispatch(mail_app).sent == 1
    message, text = _only_message(smtp_sink)
    assert message["To"].addresses[0].display_name == "Eve"
    assert "Eve" in text


def test_a_stored_name_with_line_breaks_is_dropped_and_the_message_still_goes_to_the_person(
    mail_app, mail_api, smtp_sink
):
    create_survey(mail_api)
    person = create_person(mail_api, "eve", name="Eve")
    # As a row written before names were checked would be.
    with mail_app.app_context():
        db().execute(update(Person).where(Person.id == person["id"]).values(name=EVIL))
        db().commit()

    assert run_schedule(mail_app).created == 1
    assert run_dispatch(mail_app).sent == 1
    message, text = _only_message(smtp_sink)
    [address] = message["To"].addresses
    assert (address.display_name, address.addr_spec) == ("", "eve@example.com")
    assert "Hello," in text


@pytest.mark.parametrize("field", ["name", "product_name"])
def test_a_single_line_survey_text_with_line_breaks_is_refused(mail_api, field):
    _refused(create_survey_raw(mail_api, **{field: "Acme\r\nX-Injected: 1"}), field)


@pytest.mark.parametrize("text", ["Hi\r\nX-Injected: 1", "Hi\tthere", "Hi\u2028there"])
def test_an_email_subject_with_control_characters_is_refused(mail_api, text):
    _refused(create_survey_raw(mail_api, email_subject={"en": text}), "email_subject")
    survey = create_survey(mail_api)
    patched = mail_api.patch(
        f"/api/v1/surveys/{survey['id']}", json={"email_subject": {"de": text}}
    )
    _refused(patched, "email_subject")


def test_multi_line_survey_texts_keep_line_breaks_and_tabs_but_not_other_controls(mail_api):
    kept = create_survey_raw(
        mail_api,
        email_intro={"en": "Thanks!\r\n\tWe read every answer."},
        question={"en": "How likely\nare you to recommend {product}?"},
        followup={"detractor": {"en": "Sorry.\nWhat went wrong?"}},
    )
    assert kept.status_code == 201, kept.get_json()
    _refused(create_survey_raw(mail_api, email_intro={"en": "Hi\x00"}), "email_intro")
    _refused(create_survey_raw(mail_api, question={"en": "Hi\x1b[31m"}), "question")
    _refused(create_survey_raw(mail_api, followup={"passive": {"en": "\x7f"}}), "followup")


def test_a_stored_subject_with_line_breaks_is_folded_into_one_line(mail_app, mail_api, smtp_sink):
    survey = create_survey(mail_api)
    create_person(mail_api, "eve", name="Eve")
    with mail_app.app_context():
        db().execute(
            update(Survey)
            .where(Survey.id == survey["id"])
            .values(email_subject={"en": EVIL}, product_name="Acme\r\nX-Injected: 2")
        )
        db().commit()

    assert run_schedule(mail_app).created == 1
    assert run_dispatch(mail_app).sent == 1
    [got] = smtp_sink.received
    message = got.message
    assert set(message.keys()) == HEADERS and message.defects == []
    assert str(message["Subject"]) == "Eve X-Injected: 1 INJECTED BODY"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "INJECTED BODY" not in text


def create_survey_raw(api, **fields):
    body = {"name": "Quarterly NPS", "product_name": "Acme", "channels": ["email"], **fields}
    return api.post("/api/v1/surveys", json=body)


def test_an_address_the_message_cannot_carry_cancels_its_invitation_not_the_pass(
    mail_app, mail_api, smtp_sink
):
    create_survey(mail_api)
    create_person(mail_api, "jöe")
    create_person(mail_api, "eve", name="Eve")

    assert run_schedule(mail_app).created == 2
    result = run_dispatch(mail_app)
    assert (result.sent, result.cancelled) == (1, 1)
    _only_message(smtp_sink)
    with mail_app.app_context():
        invitation = db().scalar(select(Invitation).join(Person).where(Person.external_id == "jöe"))
        assert (invitation.status, invitation.error) == ("cancelled", "invalid email address")
