"""The web app loads no clustering library: scikit-learn (and pandas, which it brings) is the
worker's. Every gunicorn worker imports what `wsgi.py` imports, so one stray import of `ml`
costs each of them its memory and start-up time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from service.factory import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x" * 40, "VAR_DIR": sys.argv[2]})
if sys.argv[3] == "worker":
    from service.worker.loop import worker_passes
    worker_passes()
print(json.dumps(sorted(m for m in ("ml", "sklearn", "pandas") if m in sys.modules)))
"""


def _loaded(tmp_path: Path, side: str) -> list[str]:
    """The clustering modules a fresh process holds once it has built the app (and, for the
    worker, its passes): this process has imported the worker's modules for other tests."""
    url = f"sqlite:///{tmp_path / 'flywheel.db'}"
    found = subprocess.run(
        [sys.executable, "-c", PROBE, url, str(tmp_path / "var"), side],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(found.stdout.splitlines()[-1])


def test_the_web_app_does_not_import_the_clustering_library(tmp_path: Path) -> None:
    assert _loaded(tmp_path, "web") == []


def test_the_worker_passes_still_reach_the_clustering_library(tmp_path: Path) -> None:
    assert _loaded(tmp_path, "worker") == ["ml", "pandas", "sklearn"]
