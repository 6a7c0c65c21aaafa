"""The visitor's state comes from one prepared statement run straight on the DBAPI connection:
its rows must be what SQLAlchemy's own execution gives, on SQLite and PostgreSQL, outside a
transaction and inside one (where it sees the transaction's writes). Outside one, each thread
keeps its own connection, which never holds a transaction between reads."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime

import pytest
from sqlalchemy import event, select, text, update

from service.db import db
from service.factory import create_app
from surveys.clock import utcnow
from surveys.models import Person
from surveys.widget import visits
from surveys.widget.history import (
    _statement,
    _todays_answers,
    read_visitor,
    state_of,
    visitor_state,
)
from tests.conftest import TEST_SECRET, Api, make_project
from tests.plans import sqlite_plans
from tests.widget.conftest import Widget


def test_prepared_rows_equal_sqlalchemy_rows(app, widget, survey, api):
    token = widget.customer("u-1", properties={"plan": "pro"}).json["display_token"]
    widget.post("dismissals", {"display_token": token})
    widget.customer("u-2")
    api.post("/api/v1/surveys", json={"name": "Second", "daily_response_cap": 5})
    prepared = _statement()
    with app.app_context():
        project_id = db().scalar(select(Person.project_id).where(Person.external_id == "u-1"))
        db().rollback()
        for external_id in ("u-1", "u-2", "nobody"):
            params = {"project_id": project_id, "external_id": external_id}
            expected = [tuple(row) for row in db().execute(prepared.statement, params)]
            assert [tuple(row) for row in prepared.rows(db(), params)] == expected
            assert db().in_transaction()  # the comparison above began one: rows read in it
            db().rollback()
            assert [tuple(row) for row in prepared.rows(db(), params)] == expected


def test_state_sees_the_transactions_own_writes(app, widget, survey):
    widget.customer("u-1")
    with app.app_context():
        session = db()
        person = session.scalar(select(Person).where(Person.external_id == "u-1"))
        person.locale = "ru"
        session.flush()
        assert visitor_state(session, person.project_id, "u-1", now=utcnow()).person.locale == "ru"
        session.rollback()
        assert visitor_state(session, person.project_id, "u-1", now=utcnow()).person.locale is None


def _project_id() -> int:
    """The visitors' project, read without leaving the session in a transaction."""
    project_id = db().scalar(select(Person.project_id))
    db().rollback()
    return project_id


def _in_transaction(connection, dialect: str) -> bool:
    if dialect == "sqlite":
        return connection.in_transaction
    return connection.info.transaction_status != 0  # psycopg's IDLE


def test_reads_outside_a_transaction_keep_one_connection_per_thread(app, widget, survey):
    widget.customer("u-1")
    with app.app_context():
        engine, project_id = db().get_bind(), _project_id()
        reads = app.extensions["flywheel.caches"]["read_connections"]

        def locale() -> str | None:
            return visitor_state(db(), project_id, "u-1", now=utcnow()).person.locale

        assert locale() is None
        kept = reads.connection
        assert kept is not None and not _in_transaction(kept, engine.dialect.name)
        # Another session commits: the next read sees it (no snapshot is held between reads).
        with app.extensions["db_sessionmaker"]() as other, other.begin():
            other.execute(update(Person).where(Person.external_id == "u-1").values(locale="ru"))
        assert locale() == "ru"
        assert reads.connection is kept
        assert not _in_transaction(kept, engine.dialect.name)

        # Another thread reads on a connection of its own.
        seen = {}

        def other_thread() -> None:
            with app.app_context():
                seen["locale"] = locale()
                seen["connection"] = app.extensions["flywheel.caches"][
                    "read_connections"
                ].connection

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert seen["locale"] == "ru"
        assert seen["connection"] is not None and seen["connection"] is not kept


def test_a_broken_or_disposed_connection_is_replaced(app, widget, survey):
    widget.customer("u-1")
    with app.app_context():
        engine, project_id = db().get_bind(), _project_id()

        def state():
            return visitor_state(db(), project_id, "u-1", now=utcnow())

        assert state() is not None
        reads = app.extensions["flywheel.caches"]["read_connections"]
        broken = reads.connection
        broken.close()  # as a restarted server would leave it
        assert state() is not None  # read again on a new connection
        assert reads.connection not in (None, broken)

        before = reads.connection
        engine.dispose()  # a new pool: the connection taken from the old one is let go
        assert state() is not None
        assert reads.connection not in (None, before)


def test_a_json_text_is_decoded_once(app, widget, survey, database_url):
    widget.customer("u-1", properties={"plan": "pro"})
    with app.app_context():
        project_id = _project_id()
        first, again = (visitor_state(db(), project_id, "u-1", now=utcnow()) for _ in range(2))
    assert first.person.properties == {"plan": "pro"} == again.person.properties
    assert first.surveys[0].rules.channels == again.surveys[0].rules.channels
    if database_url.startswith("sqlite"):  # PostgreSQL's driver decodes JSON itself
        assert again.person.properties is first.person.properties


def test_statements_of_a_visit(tmp_path, sqlite_template):
    """What a visit runs on the database, traced by SQLite itself: a repeat page view reads one
    statement and writes nothing; a new or changed visitor is written once, without being
    looked up twice."""
    path = tmp_path / "traced.db"
    shutil.copy(sqlite_template, path)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": TEST_SECRET})
    statements: list[str] = []

    @event.listens_for(app.extensions["db_engine"], "connect")
    def _trace(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.set_trace_callback(lambda sql: statements.append(sql.split()[0].upper()))

    keys = make_project(app)
    Api(app.test_client(), keys).post("/api/v1/surveys", json={"name": "NPS"})
    widget = Widget.of(app.test_client(), keys)

    widget.customer("u-0")  # the project's settings are now cached for the key

    def run(**body) -> list[str]:
        statements.clear()
        answer = widget.customer("u-1", **body)
        assert answer.status_code == 200, answer.json
        return [s for s in statements if s not in ("PRAGMA", "BEGIN", "COMMIT")]

    # New: the state (the person absent, the surveys read), the person (an INSERT through the
    # table: the state just said they are absent, so no second lookup), the display. A person
    # created now has no history, so the surveys' rows read before stand: no second read.
    assert run() == ["SELECT", "INSERT", "INSERT"]
    assert run() == ["SELECT"]  # the same page view again: resumed, nothing written
    assert run(locale="ru") == ["SELECT", "SELECT", "UPDATE", "SELECT"]
    assert run(locale="ru") == ["SELECT"]
    # Unsigned, on a project that lets it identify: a person the server wrote takes nothing
    # from it, so a changed body costs no more than a repeated one.
    owner = Api(app.test_client(), keys)
    owner.patch("/api/v1/project", json={"require_identity_verification": False})
    app.extensions["flywheel.caches"]["widget_keys"].clear()
    widget = Widget(app.test_client(), keys.publishable_key)
    widget.customer("u-0")  # the new settings cached again
    assert run(locale="en", email="evil@example.com", user_hash=None) == ["SELECT"]
    assert owner.get("/api/v1/people?external_id=u-1").json["items"][0]["locale"] == "ru"
    app.extensions["db_engine"].dispose()


def test_a_new_visitor_written_meanwhile_is_updated_not_doubled(app, widget, survey):
    """The first visit inserts the person through the table; when another request stored the
    same external_id between the state read and that INSERT, the general upsert updates the
    stored person instead (the same outcome as a visit that found them)."""
    widget.customer("u-race", locale="de")
    with app.app_context():
        project_id = db().scalar(select(Person.project_id).where(Person.external_id == "u-race"))
        who = visits.Claim(
            {"external_id": "u-race", "locale": "fr"}, identified=True, verified=True, trusted=True
        )
        visits._create_visitor(db(), project_id, who, utcnow())
        db().commit()
        people = db().scalars(select(Person).where(Person.external_id == "u-race")).all()
        assert [(p.locale, p.anonymous) for p in people] == [("fr", False)]


def test_a_new_visitor_row_is_what_the_upsert_would_write(app, widget, survey, api):
    """Values of a person made by a first visit: email normalised, properties kept, anonymous
    only without an external_id, untrusted without a user_hash."""
    first = widget.customer("u-new", email="Ann@Example.COM", properties={"plan": "pro"})
    assert first.status_code == 200, first.json
    assert widget.visit(anonymous_id="anon-new").status_code == 200
    with app.app_context():
        rows = {
            p.external_id: p
            for p in db().scalars(select(Person).where(Person.external_id.like("%new")))
        }
        known = rows["u-new"]
        assert (known.email, known.properties, known.anonymous) == (
            "ann@example.com",
            {"plan": "pro"},
            False,
        )
        assert known.added_at is not None and known.updated_at is not None
        anonymous = next(p for k, p in rows.items() if k != "u-new")
        assert anonymous.anonymous is True and anonymous.trusted is False


def test_a_visit_commits_without_waiting_for_the_flush_on_postgresql(app, widget, survey, api):
    """A visit that writes asks PostgreSQL not to wait for the WAL flush at its commit (its
    writes come again with the next page view); an answer through the API never does."""
    statements: list[str] = []
    engine = app.extensions["db_engine"]

    def _trace(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _trace)
    try:
        assert widget.customer("u-flush").status_code == 200
        visit_statements = list(statements)
        statements.clear()
        answer = api.post(
            "/api/v1/responses",
            json={"survey_id": survey["id"], "person": {"external_id": "u-api"}, "score": 9},
        )
        assert answer.status_code == 201, answer.json
    finally:
        event.remove(engine, "before_cursor_execute", _trace)
    relaxed = [s for s in visit_statements if "synchronous_commit" in s]
    if engine.dialect.name == "postgresql":
        assert relaxed == ["SET LOCAL synchronous_commit TO OFF"]
    else:
        assert relaxed == []
    assert not [s for s in statements if "synchronous_commit" in s]


def test_a_new_visitors_state_is_the_one_read_after_creating_them(app, widget, survey, api):
    """A first visit reads the surveys while the person is unknown, creates the person and
    builds their state from those rows. It must equal the state read back in the same
    transaction: the rules of every survey, the day's answers of a capped one (other
    people's), and an empty history."""
    capped = api.post("/api/v1/surveys", json={"name": "Capped", "daily_response_cap": 5}).json
    for number in range(2):
        shown = widget.customer(f"u-{number}", survey_id=capped["id"]).json
        answer = widget.post("responses", {"display_token": shown["display_token"], "score": 9})
        assert answer.status_code == 200, answer.json
    with app.app_context():
        session, now = db(), utcnow()
        project_id = _project_id()
        read = read_visitor(session, project_id, "u-new", now=now)
        assert read.person is None and not session.in_transaction()
        assert [row.survey_id for row in read.rows] == sorted((survey["id"], capped["id"]))
        who = visits.Claim(
            {"external_id": "u-new", "created_at": datetime(2020, 1, 1), "locale": "de"},
            identified=True,
            verified=True,
            trusted=False,
        )
        created = visits._create_visitor(session, project_id, who, now)
        built = state_of(created, read)
        assert built == visitor_state(session, project_id, "u-new", now=now)
        today = {s.rules.survey_id: s.history.responses_today for s in built.surveys}
        assert today == {survey["id"]: 0, capped["id"]: 2}
        assert built.person.locale == "de" and built.person.created_at.year == 2020
        session.rollback()


def test_the_days_count_of_a_capped_survey_seeks_todays_answers(tmp_path, sqlite_template):
    """A capped survey's visit counts the day's widget answers. SQLite, which the service
    never analyses, must find them by the (project, time) index: through the survey's index
    it walked every answer the survey ever had, on every visit (30 ms at 300,000 answers)."""
    params = {"project_id": 1, "midnight": datetime(2026, 1, 1)}
    (plan,) = sqlite_plans(
        sqlite_template,
        tmp_path,
        lambda session: _todays_answers().rows(session, params),
        lambda sql: sql.startswith("SELECT"),
    )
    answers = [step for step in plan if "survey_responses" in step]
    seek = "SEARCH survey_responses USING INDEX ix_responses_project_time"
    assert f"{seek} (project_id=? AND created_at>?)" in answers, plan
    assert not [step for step in answers if step.startswith("SCAN")], plan


def test_postgresql_plans_the_visitors_statement_once(app, widget, survey, api, database_url):
    """psycopg prepares the visitor's statement on its sixth run; PostgreSQL then plans five
    runs for their values and afterwards keeps the generic plan, as long as that plan is
    estimated no dearer. The day's count of a capped survey, a range over `created_at`, made
    it look dearer when it sat in this statement: every visit was planned anew."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's plan cache; SQLite plans each statement once per connection")
    api.post("/api/v1/surveys", json={"name": "Capped", "daily_response_cap": 5})
    assert widget.customer("u-plan").status_code == 200
    # A project with history: 5,000 answers of past days, which the planner knows of.
    with app.extensions["db_engine"].begin() as conn:
        conn.execute(
            text(
                "INSERT INTO survey_responses (project_id, survey_id, person_id, score, channel,"
                " excluded, properties, created_at, updated_at)"
                " SELECT p.project_id, :survey, p.id, g % 11, 'widget', false, '{}',"
                " now() - make_interval(days => 1 + g % 300), now()"
                " FROM people p, generate_series(1, 5000) g WHERE p.external_id = 'u-plan'"
            ),
            {"survey": survey["id"]},
        )
        conn.execute(text("ANALYZE survey_responses"))
    for _ in range(20):
        assert widget.customer("u-plan").status_code == 200
    reads = app.extensions["flywheel.caches"]["read_connections"]
    with reads.connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ("%FROM projects LEFT OUTER JOIN people%",),
        )
        generic, custom = cursor.fetchone()
    assert custom <= 5 and generic >= 5, (generic, custom)
