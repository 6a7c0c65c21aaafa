"""The worker pass that opens follow-ups for detractors and downward movers."""

from __future__ import annotations

from flask import Flask

from service.db import db
from surveys.clock import utcnow
from surveys.loop import triage_opening


def open_follow_ups(app: Flask) -> int:
    """Every project with follow-up on, a batch at a time, each batch its own transaction."""
    session = db()
    seen = 0
    for project_id in triage_opening.enabled_projects(session):
        while True:
            n = triage_opening.open_follow_ups(session, project_id, utcnow())
            session.commit()
            seen += n
            if n < triage_opening.BATCH:
                break
    return seen
