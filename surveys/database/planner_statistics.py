"""Planner statistics of the service's own tables on PostgreSQL, kept up to date by the worker.

PostgreSQL plans every statement from its statistics of each table's size and values, which
ANALYZE gathers; autovacuum runs it on a table once 50 rows plus a tenth of the table have
changed. Where autovacuum is off or behind (a server configured without it, a new database
filling fast), a table that grew from nothing is still believed empty, and a statement the
driver has prepared keeps a plan made on that belief. The widget's lookup of a person by
`external_id`, for one, walked every person of the project along `(project_id, updated_at)`
instead of seeking the unique `(project_id, external_id)`: 0.34 ms instead of 0.12 ms at
3,000 people, growing with them (docs/speed.md). The worker applies autovacuum's own rule to
the tables of the schema, so plans follow the data whatever the server's settings. ANALYZE
reads a sample of at most 30,000 rows a table and blocks neither reads nor writes.

A bulk write cannot wait for the worker's next round: it links the rows it has just written
in the same transaction, where the change counts are not yet visible, so `cover_written`
compares the statistics with the rows the caller says it wrote.

SQLite is left alone: without statistics its planner takes the index that matches the most
equality terms, which is the unique one for these lookups, and the statements tuned against
its plans (`project_id + 0` in the bulk paths) would be planned again on statistics.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.orm import Session

# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor's defaults.
THRESHOLD_ROWS = 50
SCALE_FACTOR = 0.1

_STALE = text(
    "SELECT s.relname FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid "
    "WHERE s.schemaname = current_schema() "
    "AND s.n_mod_since_analyze > :rows + :scale * greatest(c.reltuples, 0) "
    "ORDER BY s.relname"
)
_KNOWN_ROWS = text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)")


def stale_tables(session: Session, tables: Collection[str]) -> list[str]:
    """Those of `tables` (the service's: `Base.metadata.tables`) that have changed by more
    than autovacuum's analyze threshold since their statistics were gathered (never, after a
    TRUNCATE or in a new database). PostgreSQL's change counts reach this view within a
    second of each commit."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    found = session.scalars(_STALE, {"rows": THRESHOLD_ROWS, "scale": SCALE_FACTOR})
    # Only the given tables: a name from the models' metadata is safe to quote into ANALYZE,
    # and other tables sharing the schema (Alembic's) are not ours to tend.
    return [name for name in found if name in tables]


def refresh(session: Session, tables: Collection[str]) -> list[str]:
    """ANALYZE each stale one of `tables` in the session's transaction; returns their names.
    The caller commits: PostgreSQL drops the plans it had cached for those tables then."""
    stale = stale_tables(session, tables)
    for name in stale:
        _analyse(session, name)
    return stale


def cover_written(session: Session, written: dict[str, int]) -> None:
    """Before a bulk link on PostgreSQL: ANALYZE each table of `written` (table -> rows this
    transaction has just added to it) whose statistics count fewer rows than that (ANALYZE
    counts the transaction's own new rows). Planned on statistics that have not seen such
    rows (a new database, the first batches of an import, the month rows of a batch whose
    quarter rows were just analysed, a rebuild), each row's seek of its previous period's
    row, or of the batch's answers, becomes a scan: quadratic, 7 to 25 s for one batch of
    10,000 answers, hours for a rebuild of a million. Once the statistics hold the tables'
    sizes, nothing is analysed again. `written` names tables of the service's own."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table, rows in written.items():
        known = session.scalar(_KNOWN_ROWS, {"t": table})
        if known is None or known < rows:
            _analyse(session, table)


def _analyse(session: Session, table: str) -> None:
    session.execute(text(f'ANALYZE "{table}"'))
