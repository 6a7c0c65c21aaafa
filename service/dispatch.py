"""The email worker passes: schedule due invitations, and dispatch the outbox over SMTP.

The dispatcher claims a batch (committed before anything is sent), renders each message,
sends it over one reused connection and commits each result at once, so a crash loses at
most the message in flight, which a later pass marks `uncertain` instead of resending.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import tokens
from service.config import Settings
from service.db import db
from service.mail import SendError, Transport, transport_for
from surveys import delivery, outbox
from surveys.clock import utcnow
from surveys.email_render import EmailInput, build_message, render_email, sender_domain
from surveys.models import Invitation, Person, Survey

log = logging.getLogger(__name__)

SCORE_PURPOSE = "email-score"
UNSUBSCRIBE_PURPOSE = "unsubscribe"
UNSUBSCRIBE_MAX_AGE_SECONDS = 400 * 24 * 3600
BATCH = 100
LEASE = timedelta(minutes=10)
COMMIT_EVERY = 20


def score_token(invitation_id: int) -> str:
    return tokens.sign(SCORE_PURPOSE, {"i": invitation_id})


def unsubscribe_token(invitation_id: int) -> str:
    return tokens.sign(UNSUBSCRIBE_PURPOSE, {"i": invitation_id})


def compose(settings: Settings, invitation: Invitation, person: Person, survey: Survey):
    """The message for one invitation, with freshly signed links; returns (message, id)."""
    base = settings.public_url
    score_url = f"{base}/r/{score_token(invitation.id)}"
    unsubscribe_url = f"{base}/u/{unsubscribe_token(invitation.id)}"
    parts = render_email(
        EmailInput(
            locale=person.locale,
            person_name=person.name,
            product_name=survey.product_name,
            question=survey.question,
            subject=survey.email_subject,
            intro=survey.email_intro,
            score_urls=[f"{score_url}?score={n}" for n in range(11)],
            unsubscribe_url=unsubscribe_url,
            reminder=invitation.kind == "reminder",
        )
    )
    message_id = make_msgid(f"inv{invitation.id}", domain=sender_domain(settings.mail_from))
    message = build_message(
        parts,
        sender=settings.mail_from,
        recipient=person.email or "",
        recipient_name=person.name,
        message_id=message_id,
        unsubscribe_url=unsubscribe_url,
    )
    return message, message_id


def _skip_reason(session: Session, invitation: Invitation, person: Person | None, survey) -> str:
    if person is None or survey is None:
        return "person or survey deleted"
    if person.unsubscribed_at is not None:
        return "unsubscribed"
    if person.bounced_at is not None:
        return "bounced"
    if not person.email:
        return "no email address"
    if not outbox.sends_email(survey):
        return "survey closed or email channel off"
    if invitation.kind == "reminder" and outbox.answered_since_invite(session, invitation):
        return "answered"
    return ""


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    uncertain: int = 0
    cancelled: int = 0
    expired: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retried + self.uncertain + self.cancelled


def _deliver(
    session: Session,
    settings: Settings,
    transport: Transport,
    invitation: Invitation,
    person: Person | None,
    survey: Survey | None,
    now: datetime,
    result: DispatchResult,
) -> bool:
    """Send one claimed invitation and record the outcome; False: the server is unreachable."""
    why = _skip_reason(session, invitation, person, survey)
    if why:
        delivery.mark_cancelled(session, invitation, now, why)
        result.cancelled += 1
        return True
    assert person is not None and person.email
    message, message_id = compose(settings, invitation, person, survey)
    envelope_from = parseaddr(settings.mail_from)[1]
    try:
        transport.send(message, envelope_from, person.email)
    except SendError as exc:
        if exc.uncertain:
            delivery.mark_uncertain(session, invitation, now, str(exc))
            result.uncertain += 1
        elif exc.permanent:
            delivery.mark_failed(session, invitation, now, str(exc), bounce=exc.bounce)
            result.failed += 1
        else:
            if delivery.mark_retry(session, invitation, now, str(exc)):
                result.retried += 1
            else:
                result.failed += 1
        log.warning("invitation %s: %s", invitation.id, exc)
        return not exc.connection
    delivery.mark_sent(session, invitation, now, message_id)
    result.sent += 1
    return True


def dispatch(
    session: Session,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    transport: Transport | None = None,
    batch_size: int = BATCH,
) -> DispatchResult:
    """Send everything due now, batch by batch, within the per-minute cap; commits as it goes."""
    result = DispatchResult()
    result.expired = delivery.expire_leases(session, clock())
    session.commit()
    own = transport is None
    transport = transport or transport_for(settings.smtp_url, settings.var_dir)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    surveys: dict[int, Survey | None] = {}
    try:
        while True:
            now = clock()
            limit = batch_size
            if settings.send_cap_per_minute:
                left = settings.send_cap_per_minute - delivery.sent_since(
                    session, now - timedelta(minutes=1)
                )
                limit = min(limit, left)
            claimed = delivery.claim(
                session, f"{worker}:{uuid.uuid4().hex[:12]}", now, limit=limit, lease=LEASE
            )
            session.commit()
            if not claimed:
                break
            # One query for the batch's people; surveys once per pass (held: the session's
            # identity map only keeps weak references).
            people = {
                p.id: p
                for p in session.scalars(
                    select(Person).where(Person.id.in_({i.person_id for i in claimed}))
                )
            }
            for survey_id in {i.survey_id for i in claimed} - surveys.keys():
                surveys[survey_id] = session.get(Survey, survey_id)
            for index, invitation in enumerate(claimed):
                person = people.get(invitation.person_id)
                survey = surveys.get(invitation.survey_id)
                reachable = _deliver(
                    session, settings, transport, invitation, person, survey, clock(), result
                )
                # Results are committed in small groups: a crash in between leaves at most
                # COMMIT_EVERY sent messages `sending`, which expire to `uncertain`, never resent.
                if (index + 1) % COMMIT_EVERY == 0 or index + 1 == len(claimed):
                    session.commit()
                if not reachable:
                    session.commit()
                    delivery.release(session, claimed[index + 1 :], clock())
                    session.commit()
                    return result
    finally:
        if own:
            transport.close()
    return result


def schedule_pass(app: Flask) -> int:
    """Worker pass: create the invitations due now."""
    session = db()
    result = outbox.schedule_due(session, utcnow())
    session.commit()
    if result.created or result.reminders:
        log.info(
            "scheduled %d invitations, %d reminders; not invited: %s",
            result.created,
            result.reminders,
            dict(result.reasons),
        )
    return result.created + result.reminders


def dispatch_pass(app: Flask) -> int:
    """Worker pass: send what is due."""
    result = dispatch(db(), current_app.config["FLYWHEEL"])
    if result.handled or result.expired:
        log.info("dispatch: %s", result)
    return result.handled + result.expired
