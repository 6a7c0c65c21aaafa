"""Theme work outside requests: fit queued runs and assign new responses (worker and CLI).

Each step commits on its own: the claim before the long fit (so other workers see it), the
fit's results, or, when the fit raises, the rollback and the run marked failed with the reason.
"""

from __future__ import annotations

import logging
import os
import socket

from flask import Flask

from service.db import db
from surveys.clock import utcnow
from surveys.models import ThemeRun
from surveys.themes import assignment, fitting, runs

log = logging.getLogger(__name__)
MAX_RUNS_PER_PASS = 5


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def failure_message(exc: Exception) -> str:
    if isinstance(exc, fitting.FitError):
        return str(exc)
    return f"the fit failed: {type(exc).__name__}: {exc}"


def execute(run_id: int, progress: fitting.Progress | None = None) -> ThemeRun:
    """Fit a run this process has claimed (and committed); returns it done or failed."""
    session = db()
    run = session.get(ThemeRun, run_id, populate_existing=True)
    try:
        fitting.fit_run(session, run, now=utcnow(), progress=progress)
        session.commit()
    except Exception as exc:
        session.rollback()
        log.warning("theme run %s failed: %s", run_id, type(exc).__name__, exc_info=True)
        run = runs.fail_run(session, run_id, failure_message(exc), now=utcnow())
        session.commit()
    return run


def fit_queued_runs(app: Flask) -> int:
    """Worker pass: claim and fit queued runs, a few per round."""
    handled = 0
    for _ in range(MAX_RUNS_PER_PASS):
        run = runs.claim_run(db(), worker_name(), now=utcnow())
        if run is None:
            break
        db().commit()
        execute(run.id)
        handled += 1
    return handled


def assign_new_responses(app: Flask) -> int:
    """Worker pass: give responses that arrived after each project's newest run its themes."""
    session = db()
    total = 0
    for run in runs.latest_done_runs(session):
        total += assignment.assign_new(session, run)
        session.commit()
    return total
