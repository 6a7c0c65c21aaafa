"""The email worker passes: schedule due invitations, and dispatch the outbox over SMTP.

The dispatcher claims a batch (committed before anything is sent), then for each message
commits "this one is in flight" together with the previous message's result right before
its SMTP transaction. A crash therefore leaves at most one invitation `sending`, which a
later pass marks `uncertain` instead of resending; the claimed ones it never tried become
sendable again once the lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from flask import Flask, current_app
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from service import tokens
from service.config import Settings
from service.db import db
from service.mail import SendError, Transport, transport_for
from surveys.clock import utcnow
from surveys.email import delivery, outbox
from surveys.email.delivery import Claim
from surveys.email.render import (
    NAME,
    SCORE_TOKEN,
    SCORES,
    UNSUBSCRIBE_TOKEN,
    EmailInput,
    EmailTemplate,
    UnsendableAddress,
    build_message,
    email_template,
    sender_address,
    sender_domain,
    usable_name,
)
from surveys.models import Invitation, Person, Survey

log = logging.getLogger(__name__)

BATCH = 100
LEASE = timedelta(minutes=10)


class Composer:
    """Builds each message with freshly signed links from a template rendered once per
    survey, locale, kind and named-or-not (the rest of a message is the person's)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.domain = sender_domain(settings.mail_from)
        self.sign_score = tokens.signer(tokens.SCORE_PURPOSE)
        self.sign_unsubscribe = tokens.signer(tokens.UNSUBSCRIBE_PURPOSE)
        self.templates: dict[tuple[int, str | None, bool, bool], EmailTemplate] = {}

    def _template(
        self, survey: Survey, person: Person, reminder: bool, named: bool
    ) -> EmailTemplate:
        key = (survey.id, person.locale, reminder, named)
        template = self.templates.get(key)
        if template is None:
            base = self.settings.public_url
            template = self.templates[key] = email_template(
                EmailInput(
                    locale=person.locale,
                    person_name=NAME if named else None,
                    product_name=survey.product_name,
                    question=survey.question,
                    subject=survey.email_subject,
                    intro=survey.email_intro,
                    score_urls=[f"{base}/r/{SCORE_TOKEN}?score={n}" for n in SCORES],
                    unsubscribe_url=f"{base}/u/{UNSUBSCRIBE_TOKEN}",
                    reminder=reminder,
                )
            )
        return template

    def message(
        self, invitation_id: int, kind: str, person: Person, survey: Survey
    ) -> tuple[bytes, str]:
        """The message for one invitation and its Message-ID; `UnsendableAddress` when the
        person's address cannot be written."""
        name = usable_name(person.name)
        template = self._template(survey, person, kind == "reminder", name is not None)
        unsubscribe = self.sign_unsubscribe({"i": invitation_id})
        parts = template.fill(name, self.sign_score({"i": invitation_id}), unsubscribe)
        message_id = make_msgid(f"inv{invitation_id}", domain=self.domain)
        message = build_message(
            parts,
            sender=self.settings.mail_from,
            recipient=person.email or "",
            recipient_name=name,
            message_id=message_id,
            unsubscribe_url=f"{self.settings.public_url}/u/{unsubscribe}",
        )
        return message, message_id


def compose(settings: Settings, invitation: Invitation, person: Person, survey: Survey):
    """The message for one invitation, with freshly signed links; returns (message, id)."""
    return Composer(settings).message(invitation.id, invitation.kind, person, survey)


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    uncertain: int = 0
    cancelled: int = 0
    # Found `sending` past their lease (their dispatcher died): now `uncertain`.
    expired: int = 0
    # Claims of dead dispatchers that were never tried: given back, sendable again.
    released: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retried + self.uncertain + self.cancelled


def _skip_reason(
    session: Session, claim: Claim, person: Person | None, survey: Survey | None
) -> str:
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
    if claim.kind == "reminder" and outbox.answered_since_invite(session, claim):
        return "answered"
    return ""


@dataclass(frozen=True)
class _Ready:
    """A message built for a claim, or why it is not sent (`skip`), or what went wrong
    building it (`error`, raised once the current message's conversation is over)."""

    claim: Claim
    recipient: str = ""
    message: bytes = b""
    message_id: str = ""
    skip: str = ""
    error: Exception | None = None


class _Batch:
    """Sends one claimed batch.

    Each message's result is held until the next message's in-flight mark, and both are
    committed in one short transaction right before that message's DATA: one commit per
    message, and SQLite's write lock is never held while a message is built or sent. The
    next message is built while the server takes in the current one.
    """

    def __init__(
        self,
        session: Session,
        writer: Connection,
        settings: Settings,
        transport: Transport,
        composer: Composer,
        clock: Callable[[], datetime],
        result: DispatchResult,
    ) -> None:
        self.session = session
        self.writer = writer
        self.transport = transport
        self.composer = composer
        self.clock = clock
        self.result = result
        self.envelope_from = sender_address(settings.mail_from)
        self.people: dict[int, Person] = {}
        self.surveys: dict[int, Survey | None] = {}
        # Results not yet written: run inside the next commit.
        self.pending: list[Callable[[], None]] = []
        # Refused as recipients in this batch: their later messages are not tried.
        self.bounced: set[int] = set()

    def run(
        self, claimed: list[Claim], people: dict[int, Person], surveys: dict[int, Survey | None]
    ) -> bool:
        """Send the batch; False: the server is unreachable (the rest is left claimed)."""
        self.people, self.surveys = people, surveys
        try:
            reachable = self._each(claimed)
        except BaseException:
            # Keep what is known (a sent message stays `sent`, not `uncertain`) if the
            # database still takes it.
            try:
                self.commit()
            except Exception:
                self.writer.rollback()
            raise
        self.commit()
        return reachable

    def _each(self, claimed: list[Claim]) -> bool:
        upcoming: _Ready | None = self._prepare(claimed[0])
        for index, claim in enumerate(claimed):
            current, upcoming = upcoming, None
            following = claimed[index + 1] if index + 1 < len(claimed) else None

            def ahead(following: Claim | None = following) -> None:
                nonlocal upcoming
                if following is not None:
                    upcoming = self._prepare(following)

            assert current is not None and current.claim is claim
            reachable = self._send(current, ahead)
            if upcoming is None and following is not None:
                upcoming = self._prepare(following)
            if not reachable:
                return False
        return True

    def commit(self) -> None:
        self._write_pending()
        self.writer.commit()

    def _write_pending(self) -> None:
        for write in self.pending:
            write()
        self.pending.clear()

    def _prepare(self, claim: Claim) -> _Ready:
        try:
            person = self.people.get(claim.person_id)
            survey = self.surveys.get(claim.survey_id)
            why = "bounced" if claim.person_id in self.bounced else ""
            why = why or _skip_reason(self.session, claim, person, survey)
            if why:
                return _Ready(claim, skip=why)
            assert person is not None and person.email and survey is not None
            message, message_id = self.composer.message(claim.id, claim.kind, person, survey)
            return _Ready(claim, person.email, message, message_id)
        except UnsendableAddress:
            # Sending it again would fail the same way: cancelled, with the reason.
            return _Ready(claim, skip="invalid email address")
        except Exception as exc:
            # Raised by `_send`, once the conversation of the message in flight is over.
            return _Ready(claim, error=exc)

    def _start(self, claim: Claim) -> bool:
        """Commit the previous results and "this one is in flight", right before DATA."""
        self._write_pending()
        started = delivery.start_sending(self.writer, claim, self.clock(), LEASE)
        self.writer.commit()
        return started

    def _send(self, ready: _Ready, ahead: Callable[[], None]) -> bool:
        """Send one claimed invitation and hold its outcome; False: the server is unreachable."""
        writer, result, claim, now = self.writer, self.result, ready.claim, self.clock()
        if ready.error is not None:
            raise ready.error
        if ready.skip:
            why = ready.skip
            self.pending.append(lambda: delivery.mark_cancelled(writer, claim, now, why))
            result.cancelled += 1
            return True
        try:
            started = self.transport.send(
                ready.message,
                self.envelope_from,
                ready.recipient,
                ready=lambda: self._start(claim),
                meanwhile=ahead,
            )
        except SendError as exc:
            self._hold_failure(claim, exc)
            log.warning("invitation %s: %s", claim.id, exc)
            return not exc.connection
        if not started:
            # Another dispatcher took the invitation after this claim's lease ran out.
            log.warning("invitation %s: claim lost before sending", claim.id)
            return True
        sent_at, message_id = self.clock(), ready.message_id
        self.pending.append(lambda: delivery.mark_sent(writer, claim, sent_at, message_id))
        result.sent += 1
        return True

    def _hold_failure(self, claim: Claim, exc: SendError) -> None:
        writer, result, now, error = self.writer, self.result, self.clock(), str(exc)
        if exc.uncertain:
            self.pending.append(lambda: delivery.mark_uncertain(writer, claim, now, error))
            result.uncertain += 1
        elif exc.permanent:
            bounce = exc.bounce
            self.pending.append(
                lambda: delivery.mark_failed(writer, claim, now, error, bounce=bounce)
            )
            if bounce:
                self.bounced.add(claim.person_id)
            result.failed += 1
        else:
            # `mark_retry` gives up once the retries are used: that counts as failed.
            self.pending.append(lambda: delivery.mark_retry(writer, claim, now, error))
            if delivery.retries_left(claim):
                result.retried += 1
            else:
                result.failed += 1


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
    result.expired, result.released = delivery.expire_leases(session, clock())
    session.commit()
    own = transport is None
    transport = transport or transport_for(settings.smtp_url, settings.var_dir)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    composer = Composer(settings)
    surveys: dict[int, Survey | None] = {}
    # The per-message writes go through a connection of their own: a Session transaction
    # costs ~3x a Connection's, and there is one per message.
    writer = session.get_bind().engine.connect()
    try:
        while True:
            now = clock()
            limit = batch_size
            if settings.send_cap_per_minute:
                left = settings.send_cap_per_minute - delivery.sent_since(
                    session, now - timedelta(minutes=1)
                )
                limit = min(limit, left)
            claimer = f"{worker}:{uuid.uuid4().hex[:12]}"
            claimed = delivery.claim(session, claimer, now, limit=limit, lease=LEASE)
            session.commit()
            if not claimed:
                break
            # One query for the batch's people; surveys once per pass (held: the session's
            # identity map only keeps weak references).
            people = {
                p.id: p
                for p in session.scalars(
                    select(Person).where(Person.id.in_({c.person_id for c in claimed}))
                )
            }
            for survey_id in {c.survey_id for c in claimed} - surveys.keys():
                surveys[survey_id] = session.get(Survey, survey_id)
            batch = _Batch(session, writer, settings, transport, composer, clock, result)
            reachable = batch.run(claimed, people, surveys)
            # Ends the read transaction of the batch's people and reminder checks.
            session.commit()
            if not reachable:
                delivery.release(session, claimer, clock())
                session.commit()
                return result
    finally:
        writer.close()
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
