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
from tests.conftest import PG_URL

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
