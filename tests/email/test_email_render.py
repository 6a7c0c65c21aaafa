"""The survey email rendered once per survey and locale, then filled per person, is the same
text as rendering it for that person; and the message built from it parses as it should."""

from __future__ import annotations

import email
import email.policy

import pytest

from surveys.email.render import (
    NAME,
    SCORE_TOKEN,
    SCORES,
    UNSUBSCRIBE_TOKEN,
    EmailInput,
    EmailParts,
    build_message,
    email_template,
    render_email,
)

BASE = "https://nps.example.com"
SURVEY = {
    "product_name": "Acme & Co",
    "question": {"ru": "Порекомендуете ли вы {product}?"},
    "subject": {"en": "How are we doing at {product}?", "ru-RU": "Как у нас дела?"},
    "intro": {"en": "Thanks <b>a lot</b> for staying with {product}."},
}


def _input(locale, name, score, unsubscribe, reminder) -> EmailInput:
    return EmailInput(
        locale=locale,
        person_name=name,
        score_urls=[f"{BASE}/r/{score}?score={n}" for n in SCORES],
        unsubscribe_url=f"{BASE}/u/{unsubscribe}",
        reminder=reminder,
        **SURVEY,
    )


@pytest.mark.parametrize("locale", ["en", "en-GB", "ru-RU", "zh", None])
@pytest.mark.parametrize("name", [None, "Ann <Admin> & \"Co\" 'x'", "Иван", "{product}"])
@pytest.mark.parametrize("reminder", [False, True])
def test_filled_template_equals_rendering_for_the_person(locale, name, reminder):
    score, unsubscribe = "eyJpIjo0Mn0.aBc-_d.XyZ", "eyJpIjo0Mn0.QqQ.z-_9"
    template = email_template(
        _input(locale, NAME if name else None, SCORE_TOKEN, UNSUBSCRIBE_TOKEN, reminder)
    )
    direct = render_email(_input(locale, name, score, unsubscribe, reminder))
    assert template.fill(name, score, unsubscribe) == direct


def test_built_message_parses_with_both_parts_and_the_one_click_headers():
    parts = render_email(_input("ru", "Иван Петров", "tok", "untok", False))
    raw = build_message(
        parts,
        sender="Acme Опросы <nps@acme.test>",
        recipient="ivan@example.com",
        recipient_name="Иван Петров",
        message_id="<1.inv7@acme.test>",
        unsubscribe_url=f"{BASE}/u/untok",
    )
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(message["From"]) == "Acme Опросы <nps@acme.test>"
    assert str(message["To"]) == "Иван Петров <ivan@example.com>"
    assert str(message["Subject"]) == parts.subject
    assert message["List-Unsubscribe"] == f"<{BASE}/u/untok>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text == parts.text and html == parts.html


def test_a_name_or_subject_with_line_breaks_cannot_add_a_header():
    evil = "Eve\r\nX-Injected: 1\r\n\r\nINJECTED BODY"
    parts = render_email(_input("en", None, "tok", "untok", False))
    parts = EmailParts(evil, parts.text, parts.html, parts.lang)
    raw = build_message(
        parts,
        sender="Acme NPS <nps@acme.test>",
        recipient="eve@example.com",
        recipient_name=evil,
        message_id="<1.inv7@acme.test>",
        unsubscribe_url=f"{BASE}/u/untok",
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert "X-Injected" not in message and message.defects == []
    assert str(message["To"]) == "eve@example.com"
    assert str(message["Subject"]) == "Eve X-Injected: 1 INJECTED BODY"
    assert b"INJECTED" not in raw.split(b"\r\n\r\n", 1)[1]
