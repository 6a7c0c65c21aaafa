"""The background worker: runs every pass (periods, scheduling, dispatch, themes) in a loop.

Work that is not a web request runs here, in its own process, never in a gunicorn worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask

from service.db import db

log = logging.getLogger(__name__)

# A pass takes the app and returns how many items it handled.
WorkerPass = Callable[[Flask], int]


def worker_passes() -> list[tuple[str, WorkerPass]]:
    # Imported here so that the web app never loads scikit-learn.
    from service.worker import (
        alerts,
        counter_jobs,
        digests,
        dispatch,
        period_jobs,
        statistics_jobs,
        theme_jobs,
        webhooks,
    )
    from service.worker import triage as triage_jobs

    return [
        # Statistics first: every pass after it, and the web's statements, plan on them.
        ("planner_statistics", statistics_jobs.refresh_statistics),
        # The check next: a project it finds stale is rebuilt in the same round.
        ("period_check", period_jobs.check_kept),
        ("period_answers", period_jobs.rebuild_stale),
        ("schedule", dispatch.schedule_pass),
        ("dispatch", dispatch.dispatch_pass),
        ("invitation_counts", counter_jobs.check_counters),
        ("theme_runs", theme_jobs.fit_queued_runs),
        ("theme_assign", theme_jobs.assign_new_responses),
        ("webhooks", webhooks.deliver_pass),
        ("alerts", alerts.alerts_pass),
        ("digests", digests.send_due),
        ("follow_ups", triage_jobs.open_follow_ups),
    ]


def fast_passes() -> list[tuple[str, WorkerPass]]:
    """Passes whose work should not wait for the slow round: they also run every
    WEBHOOK_POLL_SECONDS (about a second) on a thread of their own."""
    from service.worker import webhooks

    return [("webhooks", webhooks.deliver_pass)]


def run_once(app: Flask) -> dict[str, int]:
    done: dict[str, int] = {}
    for name, work in worker_passes():
        with app.app_context():
            try:
                done[name] = work(app)
            except Exception:
                # One failing pass must not stop the others; it is retried next round.
                log.exception("worker pass %s failed", name)
                db().rollback()
                done[name] = -1
    return done


def run_fast(app: Flask, poll: float, stop: threading.Event) -> None:
    """The short-interval loop: each fast pass in its own app context (its own session)."""
    while not stop.is_set():
        started = time.monotonic()
        for name, work in fast_passes():
            with app.app_context():
                try:
                    work(app)
                except Exception:
                    log.exception("worker pass %s failed", name)
                    db().rollback()
        stop.wait(max(0.0, poll - (time.monotonic() - started)))


def run_forever(app: Flask, interval: float) -> None:
    log.info("worker started; passes: %s", ", ".join(n for n, _ in worker_passes()) or "none")
    poll = app.config["FLYWHEEL"].webhook_poll_seconds
    threading.Thread(
        target=run_fast, args=(app, poll, threading.Event()), name="fast-passes", daemon=True
    ).start()
    while True:
        started = time.monotonic()
        done = run_once(app)
        if any(v > 0 for v in done.values()):
            log.info("worker pass: %s", done)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
