"""The worker passes over period answers: rebuild stale ones (a new project time zone, an
upgrade, answers written past the upkeep), and check new answers against them."""

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


def check_kept(app: Flask) -> int:
    """Check each current project's answers stored since the last check against its period
    answers; a project whose rows disagree (answers written past the upkeep) is marked stale,
    so reads fall back to the answers and `rebuild_stale` rebuilds it. Returns how many were
    marked."""
    session = db()
    current = select(Project.id).where(Project.periods_zone == Project.time_zone)
    marked = 0
    for project_id in list(session.scalars(current.order_by(Project.id))):
        session.rollback()
        project = session.scalar(
            select(Project).where(Project.id == project_id).with_for_update(skip_locked=True)
        )
        if project is None or not period_answers.is_current(project):
            continue
        checked, disagree = period_answers.check_kept(session, project)
        if disagree:
            period_answers.mark_stale(session, project)
            marked += 1
            log.warning("period answers of project %s disagree with its answers", project_id)
        elif checked is not None:
            project.periods_checked_id = checked
        session.commit()
    return marked
