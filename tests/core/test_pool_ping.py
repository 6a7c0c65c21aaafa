"""When a pooled PostgreSQL connection is pinged before use (`service.db._ping_when_idle`):
after sitting in the pool, so that a connection the server dropped meanwhile is replaced
before a request sees it; not when the last request returned it moments ago, which spares
every busy request a round trip. Read off the server: `pg_stat_activity` shows each
backend's last statement, and the ping's is `;`."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from service.db import make_engine
from service.factory import create_app
from tests.conftest import PG_URL, TEST_SECRET, _truncate_pg, make_project

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite has no pool pings")


@pytest.fixture
def admin(pg_database):
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _backend(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _last_statement(admin, pid: int) -> str:
    with admin.connect() as connection:
        return connection.scalar(
            text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )


def _terminate(admin, pid: int) -> None:
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(200):
            if connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ):
                time.sleep(0.01)
            else:
                return
    raise AssertionError(f"backend {pid} still there")


@pytest.mark.parametrize(
    ("ping_after_idle", "idle", "last"),
    [
        # Returned moments ago: its last statement is still the reset of its return (a
        # rollback), not a ping.
        (60, 0, "ROLLBACK"),
        # Back in the pool for longer than the setting: pinged on its way out.
        (0.05, 0.1, ";"),
    ],
    ids=["returned-moments-ago", "sat-idle"],
)
def test_a_pooled_connection_is_pinged_only_after_sitting_idle(
    pg_database, admin, ping_after_idle, idle, last
):
    engine = make_engine(pg_database, ping_after_idle=ping_after_idle)
    try:
        pid = _backend(engine)
        time.sleep(idle)
        with engine.connect() as connection:
            # The same pooled connection, checked out again.
            assert connection.connection.dbapi_connection.info.backend_pid == pid
            assert _last_statement(admin, pid) == last
    finally:
        engine.dispose()


def test_a_connection_lost_while_idle_is_replaced_before_the_request_sees_it(pg_database, admin):
    engine = make_engine(pg_database, ping_after_idle=0.05)
    try:
        lost = _backend(engine)
        _terminate(admin, lost)
        time.sleep(0.1)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT 1")) == 1
            assert connection.scalar(text("SELECT pg_backend_pid()")) != lost
    finally:
        engine.dispose()


def test_a_connection_lost_moments_after_its_return_fails_once_then_the_pool_recovers(
    pg_database, admin
):
    """The trade for the round trip: a server gone within the last second is found by the
    first statement, as it is for every request under way at that moment. The failure marks
    the pool stale, and the next checkout connects anew."""
    engine = make_engine(pg_database, ping_after_idle=60)
    try:
        lost = _backend(engine)
        _terminate(admin, lost)
        with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
            connection.scalar(text("SELECT 1"))
        assert failed.value.connection_invalidated
        assert _backend(engine) != lost
    finally:
        engine.dispose()


def _drop_backends(admin, keep: tuple[int, ...] = ()) -> None:
    """Terminate the service's backends on the test database, as a server restart does."""
    with admin.connect() as connection:
        dropped = connection.scalars(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND NOT pid = ANY(:keep)"
            ),
            {"keep": list(keep)},
        ).all()
    assert dropped and all(dropped)
    time.sleep(0.2)  # gone; the pool's connections came back moments ago


def test_requests_after_the_server_dropped_their_connections(pg_database, admin, tmp_path):
    """Right after a request returned its connection to the pool, the server drops the
    service's connections. When the thread's kept read connection is among them, its retry
    finds the pool's connection dead too, renews the pool, and the request is served. When
    only the pooled connection went, the request meets the loss in its first statement and
    gets a 503 with Retry-After, nothing stored; the pool is renewed, and the request sent
    again is stored once."""
    _truncate_pg(pg_database)
    app = create_app(
        {"DATABASE_URL": pg_database, "VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": TEST_SECRET}
    )
    app.config["TESTING"] = True
    try:
        keys = make_project(app)
        client = app.test_client()
        survey = client.post("/api/v1/surveys", json={"name": "NPS"}, headers=keys.auth).json
        body = {"survey_id": survey["id"], "person": {"external_id": "u1"}, "score": 9}

        def answer():
            return client.post("/api/v1/responses", json=body, headers=keys.auth)

        assert answer().status_code == 201
        _drop_backends(admin)
        assert answer().status_code == 201

        kept = app.extensions["flywheel.caches"]["read_connections"].connection
        _drop_backends(admin, keep=(kept.info.backend_pid,))
        lost = answer()
        assert lost.status_code == 503, lost.json
        assert lost.headers["Retry-After"] == "1"
        assert lost.json["error"]["code"] == "unavailable"
        assert answer().status_code == 201
        listed = client.get("/api/v1/responses", headers=keys.auth).json
        assert len(listed["items"]) == 3
    finally:
        app.extensions["db_engine"].dispose()
