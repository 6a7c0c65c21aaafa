"""Shared fixtures: a migrated SQLite file per test, and the same on PostgreSQL when
TEST_DATABASE_URL is set; an app, a client and a project with its keys."""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service import migrate
from service.db import make_engine
from service.factory import create_app
from surveys.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
TEST_SECRET = "test-secret-key-not-for-production"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrated once through Alembic, then copied per test: fast, and it tests migrations."""
    path = tmp_path_factory.mktemp("template") / "flywheel.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database, migrated once, dropped at the end."""
    assert PG_URL, "TEST_DATABASE_URL is not set"
    base = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"flywheel_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "flywheel.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "VAR_DIR": str(tmp_path / "var"),
            "SECRET_KEY": TEST_SECRET,
            "PUBLIC_URL": "http://flywheel.test",
        }
    )
    app.config["TESTING"] = True
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def umask_022():
    """The usual umask, which leaves new files readable by every user unless they say not."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def file_mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class ProjectKeys:
    id: int
    secret_key: str
    publishable_key: str
    identity_secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}


def make_project(app, name: str = "Acme", time_zone: str = "UTC") -> ProjectKeys:
    from service.db import db
    from surveys.keys import identity_secret
    from surveys.projects import create_project

    with app.app_context():
        new = create_project(db(), name, time_zone)
        db().commit()
        return ProjectKeys(
            new.project.id,
            new.keys.secret_key,
            new.keys.publishable_key,
            identity_secret(TEST_SECRET, new.keys.identity_salt),
        )


@pytest.fixture
def project(app) -> ProjectKeys:
    return make_project(app)


@pytest.fixture
def other_project(app) -> ProjectKeys:
    return make_project(app, "Other Corp")


class Api:
    """A test client that sends the project's secret key with every call."""

    def __init__(self, client, keys: ProjectKeys) -> None:
        self.client, self.keys = client, keys

    def __getattr__(self, method: str):
        call = getattr(self.client, method)

        def send(url: str, **kwargs):
            headers = {**self.keys.auth, **kwargs.pop("headers", {})}
            return call(url, headers=headers, **kwargs)

        return send


@pytest.fixture
def api(client, project) -> Api:
    return Api(client, project)


@pytest.fixture
def other_api(client, other_project) -> Api:
    return Api(client, other_project)
