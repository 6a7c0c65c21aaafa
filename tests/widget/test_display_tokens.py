"""Display tokens are itsdangerous tokens: the same bytes as its serializer makes, readable by
`service.tokens` and the other way round, bound to one project and expiring."""

from __future__ import annotations

from unittest import mock

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from service import tokens
from service.widget.display_tokens import DisplayTokens, InvalidToken
from surveys.widget.visits import token_lifetime

SECRET = "display-token-test-secret-key-0123456789"


@pytest.fixture
def display_tokens() -> DisplayTokens:
    return DisplayTokens(SECRET)


def test_same_token_as_itsdangerous_dumps(display_tokens):
    payload = {"d": 42, "p": 3, "l": "zh"}
    with mock.patch("time.time", return_value=1_800_000_000.7):
        ours = display_tokens.sign(project_id=3, display_id=42, locale="zh")
        theirs = URLSafeTimedSerializer(SECRET, salt="flywheel.display").dumps(payload)
    assert ours == theirs


def test_readable_by_service_tokens_and_back(display_tokens):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    with app.app_context():
        signed_here = display_tokens.sign(project_id=3, display_id=42, locale="ru")
        assert tokens.load("display", signed_here, 60) == {"d": 42, "p": 3, "l": "ru"}
        signed_there = tokens.sign("display", {"d": 7, "p": 3, "l": "en"})
    assert display_tokens.load(signed_there, 3) == (7, "en")


def test_another_project_another_secret_or_too_old(display_tokens):
    token = display_tokens.sign(project_id=3, display_id=42, locale="en")
    with pytest.raises(InvalidToken):
        display_tokens.load(token, 4)
    with pytest.raises(InvalidToken):
        DisplayTokens("another-secret-key-entirely-0123456789").load(token, 3)
    with pytest.raises(InvalidToken):
        display_tokens.load(token[:-2] + "xx", 3)
    later = 1_800_000_000 + token_lifetime().total_seconds() + 5
    with mock.patch("time.time", return_value=1_800_000_000.0):
        old = display_tokens.sign(project_id=3, display_id=42, locale="en")
    with mock.patch("time.time", return_value=later), pytest.raises(InvalidToken):
        display_tokens.load(old, 3)


def test_a_display_is_given_the_same_token_for_a_minute(display_tokens):
    def sign_at(moment: float, display_id: int = 42, locale: str = "en") -> str:
        with mock.patch("time.time", return_value=moment):
            return display_tokens.sign(project_id=3, display_id=display_id, locale=locale)

    first = sign_at(1_800_000_000.0)
    assert sign_at(1_800_000_059.9) == first  # a page view later in the same minute
    assert sign_at(1_800_000_000.0, display_id=43) != first  # another display
    assert sign_at(1_800_000_000.0, locale="ru") != first  # another locale
    later = sign_at(1_800_000_060.0)
    assert later != first
    with mock.patch("time.time", return_value=1_800_000_060.0):
        assert display_tokens.load(later, 3) == (42, "en")
    # A clock set back never hands out a token stamped in its future.
    assert sign_at(1_799_999_990.0) not in (first, later)
