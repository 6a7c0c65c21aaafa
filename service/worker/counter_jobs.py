"""The worker pass over invitation counters: compare a few surveys' counters with their
invitations each round (the survey checked longest ago first) and rebuild those that differ."""

from __future__ import annotations

import logging

from flask import Flask

from service.db import db
from surveys.clock import utcnow
from surveys.email import invitation_counts

log = logging.getLogger(__name__)

# Surveys checked per round: each check reads every invitation of its survey once.
CHECKS_PER_ROUND = 5


def check_counters(app: Flask) -> int:
    """Check up to CHECKS_PER_ROUND surveys, each in its own transaction; returns how many
    disagreed and were rebuilt."""
    session = db()
    now = utcnow()
    rebuilt = 0
    for survey_id in invitation_counts.due_for_check(session, now, CHECKS_PER_ROUND):
        session.rollback()
        if invitation_counts.check(session, survey_id, now):
            rebuilt += 1
            log.warning(
                "invitation counters of survey %s disagreed with its invitations: rebuilt",
                survey_id,
            )
        session.commit()
    return rebuilt
