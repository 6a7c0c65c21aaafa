"""The alerts pass: for each active rule, match what is new, then send what is due.

Each rule is taken under a lease (one worker at a time), its matches are committed before
anything is sent, and a message's matches are committed `sending` before it is posted, so a
pass that dies or runs twice never sends one match twice (surveys/loop/alerts.py).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from service.config import Settings
from service.db import db
from service.worker.alert_senders import AlertNotSent, post_json, send_email
from surveys.clock import utcnow
from surveys.loop import alerts
from surveys.loop.alert_content import compose
from surveys.loop.alert_messages import slack_body, teams_body
from surveys.loop.alert_rules import open_url, sealer_for
from surveys.models import AlertEvent, AlertRule
from surveys.sealed import SealError

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver(
    session: Session, settings: Settings, rule: AlertRule, events: list[AlertEvent]
) -> None:
    """Send one message for these matches; AlertNotSent when it did not go."""
    alert = compose(session, rule, events, settings.public_url)
    if not alert.items:
        return  # every answer was erased meanwhile: nothing left to tell
    if rule.destination == "email":
        send_email(alert, list(rule.emails), settings)
        return
    try:
        url = open_url(rule, sealer_for(settings.secret_key))
    except SealError as exc:
        raise AlertNotSent(
            "the destination URL cannot be opened: set it again", permanent=True
        ) from exc
    if url is None:
        raise AlertNotSent("the rule has no destination URL", permanent=True)
    body = slack_body(alert) if rule.destination == "slack" else teams_body(alert)
    post_json(url, body, allow_private=settings.webhook_allow_private)


def run_rule(session: Session, settings: Settings, rule: AlertRule, now: datetime) -> int:
    """Match and send one claimed rule; returns how many matches went out."""
    alerts.match_answers(session, rule, now)
    alerts.check_themes(session, rule, now)
    session.commit()
    sent = 0
    while True:
        events = alerts.take_due(session, rule, now)
        session.commit()
        if not events:
            return sent
        try:
            deliver(session, settings, rule, events)
        except AlertNotSent as exc:
            log.warning("alert rule %s: not sent: %s", rule.id, exc)
            alerts.record_failed(session, rule, events, str(exc), permanent=exc.permanent, now=now)
            session.commit()
            return sent
        alerts.record_sent(session, rule, events, now)
        session.commit()
        sent += len(events)


def run_alerts(
    session: Session, settings: Settings, now: datetime, worker: str | None = None
) -> int:
    worker = worker or worker_name()
    sent = 0
    for rule_id in alerts.active_rule_ids(session):
        rule = alerts.claim_rule(session, rule_id, worker, now)
        session.commit()
        if rule is None:
            continue
        try:
            sent += run_rule(session, settings, rule, now)
        finally:
            session.rollback()
            alerts.release_rule(session, rule_id, worker)
            session.commit()
    return sent


def alerts_pass(app: Flask) -> int:
    return run_alerts(db(), app.config["FLYWHEEL"], utcnow())
