"""Database engine and the per-request session, with SQLite tuned for several processes."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from service.caches import caches_of
from service.private_files import touch_private
from surveys.database.prepared import READ_CONNECTIONS_INFO, ReadConnections

# Pages the WAL may hold before a commit checkpoints it (see `make_engine`).
WAL_CHECKPOINT_PAGES = 10_000
# A pooled PostgreSQL connection back in the pool for longer than this is pinged before it is
# handed out again; one returned more recently goes out as it is (see `_ping_when_idle`).
PING_AFTER_IDLE_SECONDS = 1.0
# Where a pool entry keeps the moment its connection came back (`ConnectionPoolEntry.info`,
# which SQLAlchemy empties when the connection is replaced).
_RETURNED_AT = "flywheel.returned_at"


def make_engine(url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> Engine:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            # Created owner-only before SQLite opens it: its -wal and -shm take the same mode.
            touch_private(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # noqa: ANN001
            # WAL lets readers and one writer work at once; busy_timeout makes a writer wait
            # instead of failing with "database is locked" when gunicorn workers collide.
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # The commit that finds the WAL past this many pages copies them into the database
            # file and syncs both. At SQLite's default (1,000 pages) an answer's commit paid
            # for that every hundred answers or so; ten times fewer, larger checkpoints copy a
            # page rewritten many times once, and cut an answer's CPU by 5-8 % in process
            # (BENCHMARKS.md). The WAL then grows to about 40 MB between checkpoints.
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10)
    _ping_when_idle(engine, ping_after_idle)
    return engine


def _ping_when_idle(engine: Engine, after: float) -> None:
    """Ping a pooled connection before use only when it has sat in the pool for `after`
    seconds or more; a connection found dead is replaced before the request sees it.

    In place of `pool_pre_ping`, which pings on every checkout: a round trip of its own, one
    of the eight an answer through the API made on PostgreSQL (BENCHMARKS.md). A connection
    returned moments ago by the last request is alive unless the server went away within
    those moments, when the requests under way fail too; then the failed statement
    invalidates the pool (SQLAlchemy's disconnect handling) and the next checkout connects
    anew. Connections lost while idle (a server restart at night, a firewall closing quiet
    connections) are the ones a ping catches, and it still does. Through the pool's
    documented `checkout` event: raising `DisconnectionError` there makes the pool drop the
    connection and hand out a new one."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):  # noqa: ANN001
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection, record, _proxy):  # noqa: ANN001
        returned = record.info.get(_RETURNED_AT)
        # A connection made for this checkout (no return recorded) has just answered.
        if returned is None or time.monotonic() - returned < after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection was lost while idle") from exc


def init_app(app: Flask, url: str) -> None:
    engine = make_engine(url)
    app.extensions["db_engine"] = engine
    # Each thread's kept read connection (see `ReadConnections`) reaches the sessions, and so
    # the domain's prepared reads, through their `info`.
    reads = caches_of(app).register("read_connections", ReadConnections())
    app.extensions["db_sessionmaker"] = sessionmaker(
        engine, expire_on_commit=False, info={READ_CONNECTIONS_INFO: reads}
    )

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        # A request that only read outside the session (a widget visit, mostly, on its
        # thread's read connection) began no transaction and holds no object: closing would
        # only reset empty state.
        if session is not None and (
            session.in_transaction() or session.identity_map or session.new
        ):
            session.close()


def db() -> Session:
    """The session of the current request or CLI command, opened on first use."""
    context = g._get_current_object()  # one context-local lookup, not three
    session = context.get("db_session")
    if session is None:
        session = context.db_session = current_app.extensions["db_sessionmaker"]()
    return session


def engine() -> Engine:
    return current_app.extensions["db_engine"]
