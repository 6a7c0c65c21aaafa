"""Two-factor seeds sealed at rest: the column holds `fw1:` text that opens only under the
app's key, sign-in with a code still works, a seed stored plain before sealing still works
and is sealed at its first good code, and revision 0015 seals (and on the way down opens) the
stored seeds when it is handed SECRET_KEY."""

from __future__ import annotations

import base64
import json
import time
import zlib

import pyotp
from sqlalchemy import text

from service import migrate
from service.db import db
from surveys.accounts import totp as totp_rules
from surveys.models import User
from surveys.sealed import Sealer, SealError
from tests.app.conftest import TeamClient
from tests.app.test_sign_in import _turn_on_two_factor
from tests.conftest import TEST_SECRET

PLAIN_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def stored_seed(app, user_id: int) -> str | None:
    with app.app_context():
        return db().get(User, user_id).totp_secret


def next_code(totp: pyotp.TOTP) -> str:
    # The code of the next 30-second step: newer than the one just used, and still accepted.
    return totp.at(int(time.time()) + 30)


def session_cookie(team: TeamClient) -> dict:
    """The Flask session cookie's payload as anyone holding a copy of it can read it."""
    value = team.client.get_cookie("flywheel_app", path="/app").value
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


def test_the_seed_is_sealed_and_sign_in_with_a_code_works(app, team, owner):
    team.sign_in(owner.email)
    team.get("/app/account/two-factor")
    # While it is being set up, the seed rides in the session cookie, sealed too.
    pending = session_cookie(team)["pending_totp_secret"]
    assert pending.startswith("fw1:")
    totp = _turn_on_two_factor(team)

    stored = stored_seed(app, owner.id)
    assert stored.startswith("fw1:") and totp.secret not in stored
    assert Sealer(TEST_SECRET, "totp").open(stored) == totp.secret
    for other in (Sealer(TEST_SECRET, "webhook"), Sealer(TEST_SECRET + "-other", "totp")):
        try:
            other.open(stored)
        except SealError:
            pass
        else:
            raise AssertionError("the seed opened under another purpose or key")

    team.post("/app/sign-out")
    r = team.sign_in(owner.email)
    assert r.headers["Location"] == "/app/sign-in/code"
    team.get("/app/sign-in/code")
    assert team.post("/app/sign-in/code", {"code": "000000"}).status_code == 422
    r = team.post("/app/sign-in/code", {"code": next_code(totp)})
    assert r.status_code == 302 and r.headers["Location"] == "/app/"
    assert team.get("/app/").status_code == 200


def test_a_seed_stored_plain_still_works_and_is_sealed_on_use(app, team, owner):
    with app.app_context():
        db().get(User, owner.id).totp_secret = PLAIN_SEED
        db().commit()
    team.sign_in(owner.email)
    team.get("/app/sign-in/code")
    assert team.post("/app/sign-in/code", {"code": "000000"}).status_code == 422
    assert stored_seed(app, owner.id) == PLAIN_SEED  # a wrong code proves nothing
    r = team.post("/app/sign-in/code", {"code": pyotp.TOTP(PLAIN_SEED).now()})
    assert r.status_code == 302 and r.headers["Location"] == "/app/"
    stored = stored_seed(app, owner.id)
    assert stored.startswith("fw1:")
    assert totp_rules.open_secret(totp_rules.sealer(TEST_SECRET), stored) == PLAIN_SEED


def test_a_seed_sealed_under_another_key_is_refused_not_a_500(app, team, owner):
    with app.app_context():
        db().get(User, owner.id).totp_secret = Sealer("another key" * 4, "totp").seal(PLAIN_SEED)
        db().commit()
    team.sign_in(owner.email)
    team.get("/app/sign-in/code")
    r = team.post("/app/sign-in/code", {"code": pyotp.TOTP(PLAIN_SEED).now()})
    assert r.status_code == 422


def test_revision_0015_seals_stored_seeds_with_the_key_and_opens_them_going_down(app, owner):
    engine = app.extensions["db_engine"]

    def column() -> str:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT totp_secret FROM users WHERE id = :id"), {"id": owner.id}
            ).scalar_one()

    engine.dispose()
    migrate.downgrade(engine, "0009_accounts", TEST_SECRET)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET totp_secret = :s WHERE id = :id"),
            {"s": PLAIN_SEED, "id": owner.id},
        )
    # Without the key (Alembic's own command line) the seed stays plain; the app seals it on use.
    migrate.upgrade(engine)
    assert column() == PLAIN_SEED
    migrate.downgrade(engine, "0009_accounts", TEST_SECRET)
    migrate.upgrade(engine, secret_key=TEST_SECRET)
    sealed = column()
    assert sealed.startswith("fw1:")
    assert Sealer(TEST_SECRET, "totp").open(sealed) == PLAIN_SEED
    migrate.downgrade(engine, "0009_accounts", TEST_SECRET)
    assert column() == PLAIN_SEED
    migrate.upgrade(engine, secret_key=TEST_SECRET)
    assert column().startswith("fw1:")
    # Through the command the operator runs, which hands over the app's key.
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
