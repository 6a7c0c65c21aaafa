"""Commits that need not wait for the disk: PostgreSQL's asynchronous commit, per transaction.

On PostgreSQL every commit waits until its WAL record is flushed (`synchronous_commit = on`):
one `fdatasync`, measured at about 5.4 ms on the benchmark machine's disk
(`pg_test_fsync`), far more than the statements of a widget visit. `SET LOCAL
synchronous_commit TO OFF` lets this one transaction return before the flush. PostgreSQL
documents the trade: a crash of the server may lose the last few hundred milliseconds of
such transactions, never part of one and never another transaction's data
(https://www.postgresql.org/docs/current/wal-async-commit.html). It is for writes that the
next request repeats anyway, never for an answer. The threads' kept connections, which take
such writes by themselves (`PreparedWrite.returning_at_once`), set it for their session
instead. SQLite in WAL mode with
`synchronous=NORMAL` already commits without a flush, so there it changes nothing.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from surveys.memo import memo


@memo()
def _statement():
    return text("SET LOCAL synchronous_commit TO OFF")


def commit_without_flush_wait(session: Session) -> None:
    """Let the session's current transaction commit without waiting for the WAL flush."""
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.execute(_statement())
