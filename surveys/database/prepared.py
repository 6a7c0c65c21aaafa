"""Statements compiled once per dialect and run straight on a DBAPI connection.

For hot paths (a widget visit runs on every page view of the host product, an answer through
the API on every answer a customer's backend sends) where SQLAlchemy's per-execution work
(cache key, execution context, result wrapping, the ORM's unit of work) costs several times
the query itself. Reads may run outside any transaction (`PreparedSelect`); writes
(`PreparedWrite`) run in the session's own transaction, which the session commits. Values
still pass through the column types' bind and result processors, so rows hold what
`session.execute()` would give. Rows read are read-only: a JSON text is decoded once and its
value shared by every row that holds the same text (a survey's channels and question come
back with every visit).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Dialect, Engine, Insert, Select, Update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

REMEMBER_LIMIT = 4096  # distinct JSON texts remembered per column
# Where a session finds the app's `ReadConnections`: its sessionmaker's `info`.
READ_CONNECTIONS_INFO = "flywheel.read_connections"
# Where a PostgreSQL connection keeps the cursor its prepared statements share (`_cursor`).
KEPT_CURSOR_INFO = "flywheel.kept_cursor"


def _cursor(dialect: Dialect, dbapi_connection: Any, info: dict[str, Any]) -> tuple[Any, bool]:
    """The cursor a statement runs on, and whether to close it after.

    On PostgreSQL, the connection's kept cursor: psycopg builds a cursor's adaptation context
    and result machinery anew with each one, and making and closing one per statement cost a
    returning widget visit about a tenth of its CPU in process (BENCHMARKS.md). psycopg lets
    a cursor run any number of statements, one after another; each `execute` replaces the
    last result. `info` lives as long as the DBAPI connection (the pool entry's, which
    SQLAlchemy empties when it replaces the connection, or `ReadConnections`' own), so the
    cursor never outlives its connection. sqlite3's cursors are closed after each statement:
    a RETURNING row fetched alone leaves its statement unfinished until the cursor is reset.
    """
    if dialect.name != "postgresql":
        return dbapi_connection.cursor(), True
    cursor = info.get(KEPT_CURSOR_INFO)
    if cursor is None or cursor.closed:
        cursor = info[KEPT_CURSOR_INFO] = dbapi_connection.cursor()
    return cursor, False


@dataclass(frozen=True)
class _Compiled:
    sql: str  # with named parameters (`:name` or `%(name)s`), so values go as a dict
    fixed: dict[str, Any]  # values the statement itself binds (literals)
    processed: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters the types convert


def _named(dialect: Dialect) -> Dialect:
    """The dialect itself when its driver takes named parameters (psycopg's `%(name)s`); for
    one that takes them by position (sqlite3's `?`), a dialect of the same kind rendering
    `:name`, which the driver takes too. Values then go by name, and no compiler internals
    are needed to put them in order."""
    if not dialect.positional:
        return dialect
    return type(dialect)(paramstyle="named")


def _compile(
    statement: Select | Insert | Update, dialect: Dialect, column_keys: Sequence[str] | None = None
) -> _Compiled:
    # `column_keys`: an INSERT's VALUES hold exactly these columns, each a parameter by its
    # name (SQLAlchemy's compiler documents it); nothing is left for a Python-side default.
    compiled = statement.compile(dialect=_named(dialect), column_keys=column_keys)
    processors = (
        (name, bind.type.dialect_impl(dialect).bind_processor(dialect))
        for name, bind in compiled.binds.items()
    )
    fixed = {
        name: bind.effective_value
        for name, bind in compiled.binds.items()
        if bind.effective_value is not None
    }
    processed = tuple((name, p) for name, p in processors if p is not None)
    return _Compiled(str(compiled), fixed, processed)


def _result_processors(
    statement: Select | Insert | Update,
    dialect: Dialect,
    description: Sequence[Sequence[Any]],
    *,
    share_json: bool = True,
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(column index, processor) of the columns whose values need converting. Some types
    (PostgreSQL numerics) choose their processor by the type the driver reports."""
    found = []
    # A SELECT's columns, or an INSERT's RETURNING columns.
    for index, (column, described) in enumerate(
        zip(statement.exported_columns, description, strict=True)
    ):
        process = column.type.dialect_impl(dialect).result_processor(dialect, described[1])
        if process is not None:
            if share_json and isinstance(column.type, JSON):
                # Decoded once per distinct value; typed, so that 1 and 1.0 (bare numbers,
                # which SQLite may hand back as they are) stay apart.
                process = functools.lru_cache(maxsize=REMEMBER_LIMIT, typed=True)(process)
            found.append((index, process))
    return tuple(found)


def _in_session(session: Session, run: Callable[[Dialect, Any, dict[str, Any]], Any]) -> Any:
    """`run(dialect, connection, info)` on the session's pooled connection, beginning its
    transaction when need be.

    A driver error that says the connection is gone (a server restart, a failover) invalidates
    the connection, as SQLAlchemy does for the statements it runs itself: the pool replaces
    it rather than hand it out again. It comes out as SQLAlchemy's error marked
    `connection_invalidated`, which the service answers with a 503 to retry
    (`service/errors.py`). The pool pings only connections left idle (`service/db.py`), so a
    connection the last request used may meet a server that went away since."""
    connection = session.connection()
    pooled, dialect = connection.connection, connection.dialect
    try:
        return run(dialect, pooled, pooled.info)
    except Exception as exc:
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        if not isinstance(orig, dialect.loaded_dbapi.Error) or not dialect.is_disconnect(
            orig, pooled, None
        ):
            raise
        connection.invalidate(orig)
        # The server went away for every connection the pool holds, not only this one: a new
        # pool, as SQLAlchemy's own disconnect handling gives.
        connection.engine.dispose()
        statement = exc.statement if isinstance(exc, DBAPIError) else ""
        raise DBAPIError.instance(
            statement,
            None,
            orig,
            dialect.loaded_dbapi.Error,
            connection_invalidated=True,
            dialect=dialect,
        ) from orig


class ReadConnections:
    """One DBAPI connection per thread, kept for the reads that run outside any transaction.

    Borrowing from the pool costs a widget visit more than its query: the checkout, the
    reset (a rollback) on return and, on PostgreSQL, the pre-ping. A connection kept by its
    thread pays none of them. It runs in autocommit, so it never holds a transaction between
    statements. It is taken from the engine's pool (so it gets the engine's connect-time
    settings) and detached from it. The app owns one (see `service/caches.py`) and hands it to
    its sessions through their `info`. A thread's connection is replaced after any error, when
    the engine has a new pool (`dispose()`) and after `clear()`, which every thread notices on
    its next read. It also takes the single-row writes that need no transaction beyond the
    statement (`PreparedWrite.returning_at_once`), each committed as it runs.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._generation = 0  # bumped by clear(): each thread's connection is then stale

    @property
    def connection(self) -> Any:
        """This thread's kept connection, or None."""
        return getattr(self._local, "connection", None)

    @property
    def info(self) -> dict[str, Any]:
        """What lives as long as this thread's kept connection (its kept cursor)."""
        return getattr(self._local, "info", {})

    @staticmethod
    def _connect(engine: Engine) -> Any:
        fairy = engine.raw_connection()
        if engine.dialect.name != "sqlite":
            try:
                # Kept for the thread's life, so worth a ping, which the pool spares a
                # connection returned moments ago (`service/db.py`): a dead one means the
                # server went away, and the pool is renewed before the one retry.
                engine.dialect.do_ping(fairy.dbapi_connection)
            except engine.dialect.loaded_dbapi.Error as exc:
                fairy.invalidate(exc)
                engine.dispose()
                fairy = engine.raw_connection()
        fairy.detach()
        connection = fairy.dbapi_connection
        if engine.dialect.name == "sqlite":
            # sqlite3 begins a transaction before a write and holds it until a commit: with
            # no isolation level, each statement commits by itself (SQLite's own autocommit).
            # In WAL mode with synchronous=NORMAL a commit waits for no disk flush anyway.
            connection.isolation_level = None
        else:
            connection.rollback()  # leave no transaction open before autocommit
            connection.autocommit = True
            # What it writes (`PreparedWrite.returning_at_once`: a widget visitor's person and
            # display) the next page view sends again: see surveys/database/durability.py.
            connection.execute("SET synchronous_commit TO OFF")
        return connection

    def _kept(self, engine: Engine) -> Any:
        local = self._local
        if getattr(local, "pool", None) is not engine.pool or local.generation != self._generation:
            self.discard()
        return getattr(local, "connection", None)

    def _keep(self, engine: Engine) -> Any:
        local = self._local
        local.connection = self._connect(engine)
        local.info = {}  # what lives as long as this connection (`_cursor`)
        local.pool, local.generation = engine.pool, self._generation
        return local.connection

    def run(
        self,
        engine: Engine,
        read: Callable[[Dialect, Any, dict[str, Any]], Any],
        *,
        retry: bool = True,
    ) -> Any:
        """`read(dialect, connection, info)` on this thread's connection, `info` being a dict
        that lives as long as the connection: the call `_in_session` makes on the session's
        connection. A failure on a kept one is tried again once on a new connection, unless
        `retry` is false (a write, which the failed try may have committed)."""
        connection = self._kept(engine)
        reused = connection is not None
        if not reused:
            connection = self._keep(engine)
        try:
            return read(engine.dialect, connection, self._local.info)
        except Exception:
            self.discard()
            if not reused or not retry:
                raise
        # A kept connection may have gone stale (a server restart, say): one retry on a new
        # one, which a read may always make.
        connection = self._keep(engine)
        try:
            return read(engine.dialect, connection, self._local.info)
        except Exception:
            self.discard()
            raise

    def discard(self) -> None:
        """Close this thread's connection; its next read connects anew."""
        local = self._local
        connection, local.connection, local.pool = getattr(local, "connection", None), None, None
        local.info = {}
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def size(self) -> int:
        """1 when this thread keeps a connection, else 0."""
        return 0 if self.connection is None else 1

    def clear(self) -> None:
        """Let go of every thread's connection: this thread's now, the others' on their next
        read (a connection belongs to its thread and is closed there)."""
        self._generation += 1
        self.discard()


class _PerDialect:
    """What a prepared statement keeps per dialect it meets: the compiled SQL and the result
    processors picked on its first run. Shared by reads and writes."""

    def __init__(
        self,
        statement: Select | Insert | Update,
        column_keys: Sequence[str] | None,
        share_json: bool,
    ) -> None:
        self.statement = statement
        self.column_keys = tuple(column_keys) if column_keys is not None else None
        self.share_json = share_json
        self.compiled_by_dialect: dict[str, _Compiled] = {}
        self.results_by_dialect: dict[str, tuple[tuple[int, Callable[[Any], Any]], ...]] = {}
        self.lock = threading.Lock()

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        found = self.compiled_by_dialect.get(dialect.name)
        if found is None:
            with self.lock:
                found = self.compiled_by_dialect.setdefault(
                    dialect.name, _compile(self.statement, dialect, self.column_keys)
                )
        return found

    def results_for(
        self, dialect: Dialect, cursor: Any
    ) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        """The result processors; the first run's driver description picks them. Only that
        run reads `cursor.description`: psycopg builds it anew, one object per column, on
        every read of the attribute (27 columns for a widget visit)."""
        found = self.results_by_dialect.get(dialect.name)
        if found is None:
            with self.lock:
                found = self.results_by_dialect.setdefault(
                    dialect.name,
                    _result_processors(
                        self.statement, dialect, cursor.description, share_json=self.share_json
                    ),
                )
        return found

    @staticmethod
    def values(compiled: _Compiled, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters with the statement's own literals, through the types' processors."""
        values = {**compiled.fixed, **params}
        for name, process in compiled.processed:
            value = values.get(name)
            if value is not None:
                values[name] = process(value)
        return values


class PreparedSelect(_PerDialect):
    """One SELECT, compiled on first use for each dialect it meets. `locking`: the statement
    locks the rows it reads (FOR UPDATE, FOR KEY SHARE ...) and so always runs in the
    session's transaction, which it begins when need be: on the kept connection, in
    autocommit, the lock would end with the statement."""

    def __init__(self, statement: Select, *, locking: bool = False) -> None:
        super().__init__(statement, None, share_json=True)
        self.locking = locking
        # Rows name their fields after the statement's columns (or labels).
        self.row = namedtuple("Row", statement.selected_columns.keys(), rename=True)

    def rows(self, session: Session, params: dict[str, Any]) -> list[Any]:
        """All rows, as named tuples in the order of the statement's columns.

        Inside the session's transaction when it has one (so the rows see its writes) or the
        statement locks; else on this thread's read connection (see `ReadConnections`) when
        the session's `info` holds them, which spares beginning and committing a session
        transaction, and the pool's checkout and reset, on a request that may write nothing.
        """
        reads: ReadConnections | None = session.info.get(READ_CONNECTIONS_INFO)

        def run(dialect: Dialect, dbapi_connection: Any, info: dict[str, Any]) -> list[Any]:
            return self._run(dialect, dbapi_connection, info, params)

        if reads is None or self.locking or session.in_transaction():
            return _in_session(session, run)
        return reads.run(session.get_bind(), run)

    def _run(
        self,
        dialect: Dialect,
        dbapi_connection: Any,
        info: dict[str, Any],
        params: dict[str, Any],
    ) -> list[Any]:
        compiled = self.compiled_for(dialect)
        cursor, close = _cursor(dialect, dbapi_connection, info)
        try:
            cursor.execute(compiled.sql, self.values(compiled, params))
            results = self.results_for(dialect, cursor)
            fetched = cursor.fetchall()
        finally:
            if close:
                cursor.close()
        if not results:
            return [self.row._make(fetched_row) for fetched_row in fetched]
        make, rows = self.row._make, []
        for fetched_row in fetched:
            row = list(fetched_row)
            for index, process in results:
                value = row[index]
                if value is not None:
                    row[index] = process(value)
            rows.append(make(row))
        return rows


class PreparedWrite(_PerDialect):
    """One INSERT of given columns (with a RETURNING or without), or one UPDATE, compiled on
    first use for each dialect it meets and run in the session's transaction, which the
    session commits.

    Every column of an INSERT's row is a parameter named after it (`column_keys`): the caller
    gives every value, so no Python-side column default is left to SQLAlchemy's execution
    (which this skips). An UPDATE (`column_keys` None) sets what its `values()` say. A driver
    error comes out as SQLAlchemy's wrapper of it (`IntegrityError` ...), as from
    `session.execute()`, so callers tell conflicts apart the same way.
    """

    def __init__(self, statement: Insert | Update, column_keys: Sequence[str] | None) -> None:
        # Returned JSON values are not shared between rows: the caller may change them.
        super().__init__(statement, column_keys, share_json=False)

    def returning(self, session: Session, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Insert one row; the RETURNING row as a plain tuple (None when an ON CONFLICT DO
        NOTHING skipped it). Returned JSON values are not shared between rows."""
        return _in_session(session, self._returning_with(params))

    def _returning_with(
        self, params: dict[str, Any]
    ) -> Callable[[Dialect, Any, dict[str, Any]], tuple[Any, ...] | None]:
        """The insert of `params` as a call on a connection, for `_in_session` or
        `ReadConnections.run`."""

        def run(dialect: Dialect, dbapi_connection: Any, info: dict[str, Any]) -> Any:
            return self._returning_on(dialect, dbapi_connection, info, params)

        return run

    def returning_at_once(self, session: Session, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """`returning`, committed by itself on this thread's kept connection (which runs in
        autocommit) when the session has begun no transaction: a write that needs no other
        in its transaction then spares the session's transaction, the pool's checkout (and
        on PostgreSQL its pre-ping), BEGIN and COMMIT (on PostgreSQL four round trips of the
        seven a widget visitor's first page view made). Otherwise as `returning`.
        Not tried again on a new connection after a failure: the first try may have
        committed. The kept connections commit without waiting for the WAL flush
        (`ReadConnections`): for writes the next request repeats anyway."""
        reads: ReadConnections | None = session.info.get(READ_CONNECTIONS_INFO)
        if reads is None or session.in_transaction():
            return self.returning(session, params)
        return reads.run(session.get_bind(), self._returning_with(params), retry=False)

    def _returning_on(
        self,
        dialect: Dialect,
        dbapi_connection: Any,
        info: dict[str, Any],
        params: dict[str, Any],
    ) -> tuple[Any, ...] | None:
        compiled = self.compiled_for(dialect)
        values = self.values(compiled, params)
        cursor, close = _cursor(dialect, dbapi_connection, info)
        try:
            try:
                cursor.execute(compiled.sql, values)
                fetched = cursor.fetchone()
            except dialect.loaded_dbapi.Error as exc:
                raise DBAPIError.instance(
                    compiled.sql, values, exc, dialect.loaded_dbapi.Error, dialect=dialect
                ) from exc
            results = self.results_for(dialect, cursor)
        finally:
            if close:
                cursor.close()
        if fetched is None or not results:
            return fetched if fetched is None else tuple(fetched)
        row = list(fetched)
        for index, process in results:
            if row[index] is not None:
                row[index] = process(row[index])
        return tuple(row)

    def execute(self, session: Session, params: dict[str, Any]) -> None:
        """Run the statement once (no RETURNING). Through the driver's `execute`, not an
        executemany of one: psycopg runs every executemany as a pipeline, whose extra round
        trips and bookkeeping cost more than a statement of a few rows."""
        self._send(session, [params], many=False)

    def execute_many(self, session: Session, rows: Sequence[dict[str, Any]]) -> None:
        """Run the statement for each row through the driver's executemany (no RETURNING)."""
        self._send(session, rows, many=True)

    def _send(self, session: Session, rows: Sequence[dict[str, Any]], *, many: bool) -> None:
        _in_session(
            session, lambda dialect, dbapi, info: self._send_on(dialect, dbapi, info, rows, many)
        )

    def _send_on(
        self,
        dialect: Dialect,
        dbapi_connection: Any,
        info: dict[str, Any],
        rows: Sequence[dict[str, Any]],
        many: bool,
    ) -> None:
        compiled = self.compiled_for(dialect)
        values = [self.values(compiled, row) for row in rows]
        cursor, close = _cursor(dialect, dbapi_connection, info)
        try:
            if many:
                cursor.executemany(compiled.sql, values)
            else:
                cursor.execute(compiled.sql, values[0])
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                compiled.sql, values, exc, dialect.loaded_dbapi.Error, dialect=dialect
            ) from exc
        finally:
            if close:
                cursor.close()
