"""Which database errors a concurrent change causes, told apart on PostgreSQL and SQLite.

PostgreSQL's driver gives each error its SQLSTATE; SQLite's (Python 3.11+) its extended
result name. Both are read off the driver's exception that SQLAlchemy wraps.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

FOREIGN_KEY_VIOLATION = frozenset({"23503", "SQLITE_CONSTRAINT_FOREIGNKEY"})
UNIQUE_VIOLATION = frozenset({"23505", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
# A deadlock, or a serializable transaction that lost: the same request would succeed later.
COLLISION = frozenset({"40P01", "40001"})


def _codes(exc: DBAPIError) -> set[str]:
    orig = exc.orig
    return {
        code
        for code in (getattr(orig, "sqlstate", None), getattr(orig, "sqlite_errorname", None))
        if code
    }


def is_foreign_key_violation(exc: DBAPIError) -> bool:
    return bool(_codes(exc) & FOREIGN_KEY_VIOLATION)


def is_unique_violation(exc: DBAPIError) -> bool:
    return bool(_codes(exc) & UNIQUE_VIOLATION)


def is_collision(exc: DBAPIError) -> bool:
    return bool(_codes(exc) & COLLISION)
