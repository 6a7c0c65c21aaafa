"""Everything Flywheel writes under var/ is owner-only, even under the usual umask 022: the
database (and SQLite's -wal and -shm beside it) and the secret key here; the `.eml` outbox in
tests/email/test_email_flow.py."""

from __future__ import annotations

from sqlalchemy import text

from service import migrate
from service.factory import create_app
from tests.conftest import file_mode, make_project


def test_fresh_var_database_wal_and_key_are_owner_only(tmp_path, umask_022):
    var = tmp_path / "deploy" / "var"  # its parent is missing too
    app = create_app(
        {"VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var}/flywheel.db", "SECRET_KEY": ""}
    )
    engine = app.extensions["db_engine"]
    migrate.upgrade(engine)
    make_project(app)
    # While a connection is open SQLite keeps its -wal and -shm files.
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM projects")).scalar()
        files = sorted(p.name for p in var.iterdir())
        assert files == ["flywheel.db", "flywheel.db-shm", "flywheel.db-wal", "secret_key"]
        for name in files:
            assert file_mode(var / name) == 0o600, name
    assert file_mode(var) == 0o700 and file_mode(var.parent) == 0o700
    engine.dispose()
