"""The migrated schema is exactly what the models declare: no change without a revision."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from surveys.models import Base


def test_migrated_schema_equals_the_models(database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


COUNTED = ("projects", "people", "surveys", "survey_responses", "period_answers")


def test_later_revisions_keep_every_row_down_and_up(app, api):
    """On SQLite a batch rebuild drops and recreates a table, and with foreign keys on, the
    drop cascades: the revisions since 0006 must change columns in place."""
    from service import migrate

    survey = api.post("/api/v1/surveys", json={"name": "Q"}).get_json()
    for i in range(3):
        body = {"survey_id": survey["id"], "person": {"external_id": f"p{i}"}, "score": 9}
        assert api.post("/api/v1/responses", json=body).status_code == 201
    engine = app.extensions["db_engine"]

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED}

    before = counts()
    engine.dispose()
    migrate.downgrade(engine, "0006_period_answers")
    assert counts() == before
    migrate.upgrade(engine)
    assert counts() == before


def test_a_url_with_percent_escapes_migrates(tmp_path):
    """A password with an @ or a socket folder in `?host=` reaches Alembic percent-escaped;
    its options are ConfigParser values, where a bare `%` failed the upgrade."""
    from service import migrate

    folder = tmp_path / "a b%c"
    folder.mkdir()
    engine = create_engine(f"sqlite:///{folder}/flywheel.db")
    try:
        config = migrate.alembic_config(engine)
        assert config.get_main_option("sqlalchemy.url") == engine.url.render_as_string(False)
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM projects")) == 0
    finally:
        engine.dispose()
