"""The worker pass over planner statistics: on PostgreSQL, analyse the service's tables that
have changed by more than autovacuum's threshold (`surveys/database/planner_statistics.py`)."""

from __future__ import annotations

import logging

from flask import Flask

from service.db import db
from surveys.database import planner_statistics
from surveys.models import Base

log = logging.getLogger(__name__)


def refresh_statistics(app: Flask) -> int:
    """Analyse the stale tables in one transaction; returns how many were analysed."""
    session = db()
    tables = planner_statistics.refresh(session, Base.metadata.tables)
    session.commit()
    if tables:
        log.info("planner statistics gathered for %s", ", ".join(tables))
    return len(tables)
