"""Everything Flywheel writes under var/ is owner-only, even under the usual umask 022: the
database (and SQLite's -wal and -shm beside it), the secret key, and the `.eml` outbox."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from service import migrate
from service.factory import create_app
from tests.conftest import Api, make_project
from tests.email.conftest import create_person, create_survey, email_app, run_dispatch, run_schedule


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_fresh_var_database_wal_and_key_are_owner_only(tmp_path, umask_022):
    var = tmp_path / "deploy" / "var"  # its parent is missing too
    app = create_app({"VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var}/flywheel.db"})
    engine = app.extensions["db_engine"]
    migrate.upgrade(engine)
    make_project(app)
    # While a connection is open SQLite keeps its -wal and -shm files.
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM projects")).scalar()
        files = sorted(p.name for p in var.iterdir())
        assert files == ["flywheel.db", "flywheel.db-shm", "flywheel.db-wal", "secret_key"]
        for name in files:
            assert mode(var / name) == 0o600, name
    assert mode(var) == 0o700 and mode(var.parent) == 0o700
    engine.dispose()


def test_outbox_eml_files_are_owner_only(database_url, tmp_path, umask_022):
    app = email_app(database_url, tmp_path / "var", None)
    api = Api(app.test_client(), make_project(app))
    create_survey(api)
    create_person(api, "ann")
    run_schedule(app)
    assert run_dispatch(app).sent == 1
    outbox = tmp_path / "var" / "outbox"
    [eml] = list(outbox.glob("*.eml"))
    assert mode(outbox) == 0o700 and mode(eml) == 0o600
    assert mode(tmp_path / "var") == 0o700
    app.extensions["db_engine"].dispose()
