"""How many statements an answer through the API runs (docs/speed.md gives each one's
reason), counted by SQLite's own trace of what it executes: the compiled statements go
straight to the driver, past SQLAlchemy's events."""

import re

import pytest
from sqlalchemy import event

from service.caches import caches_of

PLUMBING = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)\b", re.I)


@pytest.fixture
def traced(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("counted with sqlite3's trace callback; PostgreSQL runs the same statements")
    seen: list[str] = []
    engine = app.extensions["db_engine"]

    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.set_trace_callback(seen.append)

    # Connections made before the listener: the pool's and each thread's read connection.
    engine.dispose()
    caches_of(app)["read_connections"].clear()
    return seen


def statements(seen: list[str]) -> list[str]:
    """What ran, without transaction plumbing; an executemany's rows count once."""
    out: list[str] = []
    for sql in seen:
        if PLUMBING.match(sql):
            continue
        shape = sql.split(" VALUES ")[0]
        if out and out[-1].split(" VALUES ")[0] == shape:
            continue
        out.append(sql)
    return out


def test_a_returning_person_costs_four_statements_and_a_new_one_six(api, traced):
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json
    body = {"survey_id": survey["id"], "person": {"external_id": "u1"}, "score": 9}
    traced.clear()
    first = api.post("/api/v1/responses", json=body)
    assert first.status_code == 201 and first.json["movement"] == "new"
    new_person = statements(traced)
    traced.clear()
    second = api.post("/api/v1/responses", json={**body, "score": 3})
    assert second.status_code == 201
    assert second.json["previous_segment"] == "promoter" and second.json["movement"] == "down"
    returning = statements(traced)
    kinds = [s.split()[0].upper() for s in returning]
    assert kinds == ["SELECT", "SELECT", "INSERT", "INSERT"], returning
    assert "projects" in returning[0] and "people" in returning[1]
    assert "survey_responses" in returning[2] and "period_answers" in returning[3]
    # The period rows come with their link to the previous periods' rows (movement).
    assert "prev_score" in returning[3]
    assert len(new_person) == 6, new_person


def test_an_answer_dated_before_the_persons_last_relinks_the_later_periods(api, traced):
    """A late answer (an import of history, say) may change what a later period moved from:
    the person's read says they answered since, and one UPDATE relinks those rows."""
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json
    body = {"survey_id": survey["id"], "person": {"external_id": "u1"}, "score": 9}
    assert api.post("/api/v1/responses", json=body).status_code == 201
    traced.clear()
    late = {**body, "score": 2, "created_at": "2024-01-15T12:00:00Z"}
    assert api.post("/api/v1/responses", json=late).status_code == 201
    kinds = [s.split()[0].upper() for s in statements(traced)]
    assert kinds == ["SELECT", "SELECT", "INSERT", "INSERT", "UPDATE"], statements(traced)


def test_an_answer_with_a_key_reads_the_project_once(api, traced):
    """An answer with an `Idempotency-Key` takes the general path, which reads the project
    through the session: it gets the object made from authentication's row, not a second
    query."""
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json
    body = {"survey_id": survey["id"], "person": {"external_id": "u1"}, "score": 9}
    traced.clear()
    first = api.post("/api/v1/responses", json=body, headers={"Idempotency-Key": "k1"})
    again = api.post("/api/v1/responses", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.json["id"] == first.json["id"]
    reads = [s for s in statements(traced) if re.search(r"\bFROM projects\b", s)]
    assert len(reads) == 2, reads  # authentication's, once per request
