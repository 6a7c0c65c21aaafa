"""The digest pass: each due subscription's digest for its last complete week or month, sent
through the survey mail transport; and `send_now` for the CLI.

A subscription's period is claimed (a committed row, unique per subscription and period)
before its message is built, so two passes or two workers never send one period twice. A
period without new feedback since the last digest is recorded `paused` and nothing is sent.
The figures are built once per project, cadence and period and shared by its subscribers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, current_app

from service import tokens
from service.app.mailer import public_link
from service.config import Settings
from service.db import db
from service.mail import SendError, transport_for
from surveys.accounts.roles import Role, sees_emails
from surveys.accounts.users import find_user, projects_of
from surveys.clock import utcnow
from surveys.email.render import sender_address
from surveys.errors import NotFound
from surveys.loop import digest_subscriptions as subs
from surveys.loop.digest import Digest, build_digest
from surveys.loop.digest_message import DigestLinks, PreparedDigest, build_message, prepare
from surveys.models import Project
from surveys.periods import Period

log = logging.getLogger(__name__)


def _links(subscription_id: int | None) -> DigestLinks:
    return DigestLinks(
        app_url=public_link("app.overview"),
        movement_url=public_link("app.movement"),
        friction_url=public_link("app.friction_points"),
        settings_url=public_link("app.digest"),
        unsubscribe_url=(
            public_link(
                "pages.digest_unsubscribe_confirm",
                token=tokens.digest_unsubscribe_token(subscription_id),
            )
            if subscription_id is not None
            else None
        ),
    )


def _prepare(settings: Settings, digest: Digest, shows_emails: bool) -> PreparedDigest:
    # Any link: it only says that each message carries its own.
    links = _links(0)
    return prepare(digest, links=links, sender=settings.mail_from, sees_emails=shows_emails)


def send_due(app: Flask, now: datetime | None = None) -> int:
    """Send every due digest; returns how many were sent or paused."""
    settings: Settings = app.config["FLYWHEEL"]
    session = db()
    now = now or utcnow()
    due = subs.due_subscriptions(session, now)
    if not due:
        return 0
    # Rendered once per project, cadence, period and whether emails show, for every
    # subscriber alike: each message fills in its recipient and unsubscribe link.
    prepared: dict[tuple[int, str, str, bool], PreparedDigest] = {}
    digests: dict[tuple[int, str, str], Digest] = {}
    feedback: dict[tuple[int, datetime, datetime], int] = {}
    handled = 0
    with transport_for(settings.smtp_url, settings.var_dir) as transport:
        for item in due:
            sub, period = item.subscription, item.period
            send_id = subs.claim(session, sub.id, period, now)
            # One commit per digest: this claim with the previous digest's result. The claim
            # is durable before anything is sent; a result lost to a crash leaves its period
            # `sending`, which is never sent again.
            session.commit()
            if send_id is None:
                continue  # another pass or worker has this period
            window = (item.project.id, sub.covered_until or period.start, period.end)
            if window not in feedback:
                feedback[window] = subs.new_feedback(session, sub, period)
            if not feedback[window]:
                subs.finish(session, send_id, sub, period, "paused", now)
                handled += 1
                continue
            shows = sees_emails(Role(item.role), item.project)
            figures = (item.project.id, sub.cadence, period.label)
            key = (*figures, shows)
            status, error = "sent", None
            try:
                if figures not in digests:
                    digests[figures] = build_digest(session, item.project, sub.cadence, period)
                if key not in prepared:
                    prepared[key] = _prepare(settings, digests[figures], shows)
                links = _links(sub.id)
                message = prepared[key].message(item.user.email, links.unsubscribe_url)
                transport.send(message, sender_address(settings.mail_from), item.user.email)
            except SendError as exc:
                if not exc.permanent and not exc.uncertain:
                    # Nothing was handed over: the period goes back for a later pass.
                    log.warning(
                        "digest %s for subscription %s deferred: %s", period.label, sub.id, exc
                    )
                    subs.release(session, send_id)
                    session.commit()
                    if exc.connection:
                        break  # the server is unreachable: the rest would fail the same way
                    continue
                status, error = "failed", str(exc)
                log.warning("digest %s for subscription %s not sent: %s", period.label, sub.id, exc)
            except Exception as exc:
                # The claim is committed: record why, or the period would look in flight.
                session.rollback()
                status, error = "failed", f"{type(exc).__name__}: {exc}"
                log.exception("digest %s for subscription %s failed", period.label, sub.id)
            subs.finish(session, send_id, sub, period, status, utcnow(), error)
            handled += 1
    session.commit()
    return handled


def send_now(project_id: int, recipient: str, cadence: str = "weekly") -> Period:
    """The digest of the last complete period, sent at once to one address (the CLI); it
    claims no period, so the subscriber's own digest still comes."""
    settings: Settings = current_app.config["FLYWHEEL"]
    session = db()
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    period = subs.covered_period(utcnow(), cadence, project.time_zone)
    digest = build_digest(session, project, cadence, period)
    subscription_id = None
    # Someone outside the project sees no one's address.
    shows_emails = False
    user = find_user(session, recipient)
    if user is not None:
        member = next(
            (p for p in projects_of(session, user.id) if p.project.id == project_id), None
        )
        if member is not None:
            shows_emails = sees_emails(member.role, project)
            sub = subs.get_subscription(session, user.id, project_id)
            subscription_id = sub.id if sub is not None and sub.active else None
    message = build_message(
        digest,
        _links(subscription_id),
        sender=settings.mail_from,
        recipient=recipient,
        sees_emails=shows_emails,
    )
    with transport_for(settings.smtp_url, settings.var_dir) as transport:
        transport.send(message, sender_address(settings.mail_from), recipient)
    return period
