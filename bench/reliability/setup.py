"""A fresh database (SQLite file or throwaway PostgreSQL database) with a project and survey."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service import migrate
from service.db import make_engine
from surveys.catalog import create_survey
from surveys.projects import create_project, update_project

OUT = Path(__file__).resolve().parent.parent / "out" / "reliability"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Target:
    url: str
    kind: str
    project_id: int
    survey_id: int
    secret_key: str
    publishable_key: str


def fresh_database(kind: str, name: str, pg_url: str = PG_DEFAULT) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        path = OUT / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        base = make_url(pg_url)
        db_name = f"flywheel_rel_{name}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        admin.dispose()
        url = base.set(database=db_name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str, kind: str) -> Target:
    """A project whose widget shows the survey to every new visitor (no fatigue guard, no
    minimum age), so the load exercises the whole widget flow."""
    engine = make_engine(url)
    with Session(engine) as session:
        new = create_project(session, "Reliability")
        # The load's visitors identify without a user_hash.
        update_project(
            session, new.project, {"throttle_days": 0, "require_identity_verification": False}
        )
        survey = create_survey(
            session,
            new.project.id,
            {"name": "Load", "channels": ["widget", "email"], "min_age_days": 0},
        )
        session.commit()
        target = Target(
            url, kind, new.project.id, survey.id, new.keys.secret_key, new.keys.publishable_key
        )
    engine.dispose()
    return target
