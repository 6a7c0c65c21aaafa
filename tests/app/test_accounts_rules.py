"""The accounts domain's pure rules, without an app: roles, password rules and hashes, and
two-factor codes checked at a given time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from surveys.accounts import totp
from surveys.accounts.passwords import (
    MIN_LENGTH,
    check_password_rules,
    hash_password,
    verify_password,
)
from surveys.accounts.roles import ROLES, Role, sees_emails
from surveys.accounts.users import normalise_email
from surveys.errors import Invalid
from surveys.models import Project

NOW = datetime(2026, 3, 2, 10, 0, 15)


def test_roles_are_ordered_viewer_editor_owner():
    assert ROLES == (Role.VIEWER, Role.EDITOR, Role.OWNER)
    assert Role.OWNER.at_least(Role.EDITOR) and Role.EDITOR.at_least(Role.EDITOR)
    assert not Role.VIEWER.at_least(Role.EDITOR)
    assert Role.parse("owner") is Role.OWNER
    with pytest.raises(Invalid):
        Role.parse("admin")


def test_viewers_see_emails_unless_the_project_hides_them():
    open_project = Project(hide_emails_from_viewers=False)
    closed = Project(hide_emails_from_viewers=True)
    assert sees_emails(Role.VIEWER, open_project)
    assert not sees_emails(Role.VIEWER, closed)
    assert sees_emails(Role.EDITOR, closed) and sees_emails(Role.OWNER, closed)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("x" * (MIN_LENGTH - 1), "at least"),
        ("x" * 257, "at most"),
        ("ann.smith@acme.test", "email"),
        ("Ann.Smith.Acme", None),
        ("ten chars!", None),
    ],
)
def test_password_rules(password, problem):
    if problem is None:
        check_password_rules(password, "ann.smith@acme.test")
        return
    with pytest.raises(Invalid) as caught:
        check_password_rules(password, "ann.smith@acme.test")
    assert problem in caught.value.message


def test_hashes_are_argon2id_and_salted():
    first, second = hash_password("same passphrase"), hash_password("same passphrase")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "same passphrase")
    assert not verify_password(first, "Same passphrase")
    assert not verify_password(None, "same passphrase")
    assert not verify_password("not a hash", "same passphrase")


def test_emails_are_lowercased_and_loosely_checked():
    assert normalise_email("  Ann@Acme.TEST ") == "ann@acme.test"
    assert normalise_email("owner@localhost") == "owner@localhost"
    for bad in ("ann", "ann@", "@acme.test", "a b@acme.test", "a@b@c", "x" * 320 + "@a.b"):
        with pytest.raises(Invalid):
            normalise_email(bad)


def test_a_code_is_good_once_and_within_a_step_of_now():
    secret = totp.new_secret()
    codes = pyotp.TOTP(secret)
    moment = NOW.replace(tzinfo=UTC)
    current = codes.at(moment)
    step = totp.accepted_step(secret, current, NOW, None)
    assert step == codes.timecode(moment)
    assert totp.accepted_step(secret, current, NOW, step) is None  # used
    # The previous and the next step's codes pass (a phone clock off by up to 30 s) ...
    assert totp.accepted_step(secret, codes.at(moment, counter_offset=-1), NOW, None) == step - 1
    assert totp.accepted_step(secret, codes.at(moment, counter_offset=1), NOW, None) == step + 1
    # ... but not two steps away, nor anything but six digits.
    assert totp.accepted_step(secret, codes.at(moment, counter_offset=2), NOW, None) is None
    later = NOW + timedelta(seconds=90)
    assert totp.accepted_step(secret, current, later, None) is None
    for junk in ("", "12345", "1234567", "abcdef"):
        assert totp.accepted_step(secret, junk, NOW, None) is None
    assert totp.accepted_step(secret, " ".join([current[:3], current[3:]]), NOW, None) == step


def test_the_authenticator_uri_names_the_issuer_and_the_account():
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "ann@acme.test")
    assert uri.startswith(f"otpauth://totp/Flywheel:ann%40acme.test?secret={secret}")
    assert "issuer=Flywheel" in uri
