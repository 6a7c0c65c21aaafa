"""Signed tokens: round trip, altered, wrong purpose, expired."""

import pytest

from service.tokens import TokenExpired, TokenInvalid, load, sign


def test_round_trip_and_tampering(app):
    with app.app_context():
        token = sign("invite", {"i": 7})
        assert load("invite", token, 60) == {"i": 7}
        with pytest.raises(TokenInvalid):
            load("invite", token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], 60)
        with pytest.raises(TokenInvalid):
            load("display", token, 60)
        with pytest.raises(TokenExpired):
            load("invite", token, -1)
