"""The worker pass that rebuilds stale period answers (a new project time zone, an upgrade)."""

from __future__ import annotations

import logging
import time

from flask import Flask
from sqlalchemy import select

from service.db import db
from surveys import period_answers
from surveys.models import Project

log = logging.getLogger(__name__)


def rebuild_stale(app: Flask) -> int:
    """Rebuild each stale project in its own transaction; returns how many were rebuilt."""
    session = db()
    done = 0
    for project_id in period_answers.stale_projects(session):
        session.rollback()
        # Several workers may run this pass: the row lock makes one of them do each project,
        # and the others skip it instead of waiting.
        project = session.scalar(
            select(Project).where(Project.id == project_id).with_for_update(skip_locked=True)
        )
        if project is None or period_answers.is_current(project):
            continue
        started = time.monotonic()
        rows = period_answers.rebuild(session, project)
        session.commit()
        done += 1
        log.info(
            "period answers of project %s rebuilt: %s rows in %.1f s",
            project_id,
            rows,
            time.monotonic() - started,
        )
    return done
