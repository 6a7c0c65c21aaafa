"""The settings every SQLite connection of the service gets (`service.db.make_engine`), read
back from SQLite itself, and the WAL checkpoint they space out."""

from __future__ import annotations

from sqlalchemy import text

from service.db import WAL_CHECKPOINT_PAGES, make_engine


def test_each_connection_gets_the_services_settings(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'settings.db'}")
    try:
        with engine.connect() as connection:
            read = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in (
                    "journal_mode",
                    "busy_timeout",
                    "synchronous",
                    "foreign_keys",
                    "wal_autocheckpoint",
                )
            }
    finally:
        engine.dispose()
    assert read == {
        "journal_mode": "wal",
        "busy_timeout": 30000,
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "wal_autocheckpoint": WAL_CHECKPOINT_PAGES,
    }


def test_commits_leave_the_wal_unchecked_past_sqlites_default(tmp_path):
    """Past 1,000 pages SQLite's default would have checkpointed and restarted the WAL; the
    service's setting lets it grow, so that one larger checkpoint does the work of many."""
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE notes (body BLOB)"))
        for _ in range(1200):  # each commit appends at least one page
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO notes VALUES (randomblob(3000))"))
        with engine.connect() as connection:
            _, frames, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    finally:
        engine.dispose()
    assert 1200 < frames < WAL_CHECKPOINT_PAGES
