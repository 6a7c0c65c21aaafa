"""gunicorn.conf.py: threads per worker follow the database unless the operator says."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict:
    for name in ("DATABASE_URL", "GUNICORN_THREADS", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_sqlite_runs_one_thread_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settings(monkeypatch, {})["threads"] == 1
    assert _settings(monkeypatch, {"DATABASE_URL": "sqlite:///var/flywheel.db"})["threads"] == 1


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg"])
def test_postgresql_runs_four_threads_per_worker(
    monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    settings = _settings(monkeypatch, {"DATABASE_URL": f"{scheme}://flywheel@db/flywheel"})
    assert settings["threads"] == 4
    assert settings["worker_class"] == "gthread"


def test_the_operator_sets_threads_and_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, {"GUNICORN_THREADS": "3", "WEB_CONCURRENCY": "5"})
    assert (settings["threads"], settings["workers"]) == (3, 5)
    pg = _settings(monkeypatch, {"DATABASE_URL": "postgresql://db/f", "GUNICORN_THREADS": "2"})
    assert pg["threads"] == 2
