"""Webhooks: a project's endpoints, their secrets, filters and delivery log.

The signing secret is shown once, when made (or rotated), and stored sealed: the worker needs
it back to sign. A URL must point at a public address unless the operator allows private ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.catalog import get_survey
from surveys.database.paging import Page, newest_first_page
from surveys.errors import Conflict, Invalid, NotFound
from surveys.events import EVENT_TYPES
from surveys.loop import listeners, signing
from surveys.models import Delivery, Webhook
from surveys.outbound_urls import check_public_url
from surveys.sealed import Sealer
from surveys.segments import SEGMENTS

TEST_EVENT = "webhook.test"
# The API, the team app and the worker seal and unseal secrets with this one purpose.
SEAL_PURPOSE = "webhook secret"
MAX_WEBHOOKS_PER_PROJECT = 50
FIELDS = (
    "url",
    "events",
    "description",
    "active",
    "survey_id",
    "segment",
    "score_min",
    "score_max",
)
Seal = Callable[[str], str]


def sealer_for(secret_key: str) -> Sealer:
    return Sealer(secret_key, SEAL_PURPOSE)


@dataclass(frozen=True)
class NewSecret:
    webhook: Webhook
    # Plain, once: the caller shows it and forgets it.
    secret: str


def _check(
    session: Session,
    project_id: int,
    data: dict[str, Any],
    allow_private: bool,
    kept_survey_id: int | None = None,
) -> None:
    survey_id = data.get("survey_id")
    # Another project's survey is 404, as everywhere else. The filter a webhook already has
    # was checked when it was set and may stay even after its survey was deleted (it then
    # matches nothing): otherwise nothing else of that webhook could be saved.
    if survey_id is not None and survey_id != kept_survey_id:
        get_survey(session, project_id, survey_id)
    if "url" in data:
        check_public_url(data["url"], allow_private)
    if "events" in data:
        unknown = sorted(set(data["events"]) - set(EVENT_TYPES))
        if unknown or not data["events"]:
            raise Invalid(
                "events must name at least one known event type",
                {"events": unknown or ["empty"], "known": list(EVENT_TYPES)},
            )
    if data.get("segment") is not None and data["segment"] not in {s.value for s in SEGMENTS}:
        raise Invalid("segment is not a segment", {"segment": data["segment"]})


def _check_range(webhook: Webhook) -> None:
    low, high = webhook.score_min, webhook.score_max
    if low is not None and high is not None and low > high:
        raise Invalid("score_min is above score_max", {"score_min": low, "score_max": high})


def create_webhook(
    session: Session,
    project_id: int,
    data: dict[str, Any],
    *,
    seal: Seal,
    allow_private: bool,
    now: datetime,
) -> NewSecret:
    _check(session, project_id, data, allow_private)
    count = len(session.scalars(select(Webhook.id).where(Webhook.project_id == project_id)).all())
    if count >= MAX_WEBHOOKS_PER_PROJECT:
        raise Conflict(f"a project has at most {MAX_WEBHOOKS_PER_PROJECT} webhooks")
    secret = signing.new_secret()
    webhook = Webhook(
        project_id=project_id,
        secret=seal(secret),
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
        **{name: data.get(name) for name in FIELDS if name != "active"},
        active=data.get("active", True),
    )
    webhook.events = list(dict.fromkeys(data["events"]))
    _check_range(webhook)
    session.add(webhook)
    listeners.refresh(session, project_id)
    return NewSecret(webhook, secret)


def get_webhook(session: Session, project_id: int, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.project_id != project_id:
        raise NotFound(f"webhook {webhook_id} not found")
    return webhook


def list_webhooks(session: Session, project_id: int) -> list[Webhook]:
    stmt = select(Webhook).where(Webhook.project_id == project_id).order_by(Webhook.id)
    return list(session.scalars(stmt))


def update_webhook(
    session: Session,
    project_id: int,
    webhook_id: int,
    changes: dict[str, Any],
    *,
    allow_private: bool,
    now: datetime,
) -> Webhook:
    webhook = get_webhook(session, project_id, webhook_id)
    _check(session, project_id, changes, allow_private, webhook.survey_id)
    for name in FIELDS:
        if name in changes:
            setattr(webhook, name, changes[name])
    if "events" in changes:
        webhook.events = list(dict.fromkeys(changes["events"]))
    _check_range(webhook)
    if changes.get("active") is True:
        # Turned back on by hand: a disabled endpoint starts afresh.
        webhook.disabled_at = webhook.disabled_reason = None
        webhook.consecutive_failures = 0
    webhook.updated_at = now
    listeners.refresh(session, project_id)
    return webhook


def delete_webhook(session: Session, project_id: int, webhook_id: int) -> None:
    session.delete(get_webhook(session, project_id, webhook_id))
    listeners.refresh(session, project_id)


def rotate_secret(
    session: Session, project_id: int, webhook_id: int, *, seal: Seal, now: datetime
) -> NewSecret:
    """A new secret at once; attempts from now on are signed with it (retries included)."""
    webhook = get_webhook(session, project_id, webhook_id)
    secret = signing.new_secret()
    webhook.secret = seal(secret)
    webhook.updated_at = now
    session.flush()
    return NewSecret(webhook, secret)


def list_deliveries(
    session: Session,
    project_id: int,
    webhook_id: int,
    *,
    limit: int,
    older_than: int | None,
    status: str | None = None,
) -> Page[Delivery]:
    get_webhook(session, project_id, webhook_id)
    stmt = select(Delivery).where(Delivery.webhook_id == webhook_id)
    if status is not None:
        stmt = stmt.where(Delivery.status == status)
    return newest_first_page(
        session, stmt, Delivery.id, limit=limit, older_than=older_than, newer_than=None
    )


def last_deliveries(session: Session, project_id: int) -> dict[int, Delivery]:
    """Each of the project's webhooks' newest delivery, by webhook id (none yet: absent)."""
    newest = (
        select(func.max(Delivery.id))
        .where(Delivery.project_id == project_id)
        .group_by(Delivery.webhook_id)
    )
    rows = session.scalars(select(Delivery).where(Delivery.id.in_(newest)))
    return {delivery.webhook_id: delivery for delivery in rows}


def get_delivery(session: Session, project_id: int, webhook_id: int, delivery_id: int) -> Delivery:
    get_webhook(session, project_id, webhook_id)
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook_id:
        raise NotFound(f"delivery {delivery_id} not found")
    return delivery


def redeliver(
    session: Session, project_id: int, webhook_id: int, delivery_id: int, *, now: datetime
) -> Delivery:
    """Send one delivery again, now, with the same body and `webhook-id` (a receiver that
    already has it can tell); a fresh retry schedule. One in flight is left alone."""
    delivery = get_delivery(session, project_id, webhook_id, delivery_id)
    if delivery.status == "sending" and delivery.lease_until and delivery.lease_until > now:
        raise Conflict("the delivery is being sent right now", {"delivery_id": delivery_id})
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.claimed_by = delivery.lease_until = None
    delivery.error = None
    delivery.updated_at = now
    session.flush()
    return delivery


def body(event_type: str, timestamp: datetime, data: dict[str, Any]) -> str:
    """The JSON body of every message: `{"type", "timestamp", "data"}`, compact, UTC."""
    return json.dumps(
        {"type": event_type, "timestamp": timestamp.isoformat() + "Z", "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def queue(
    session: Session,
    webhook: Webhook,
    event_type: str,
    payload: str,
    now: datetime,
    event_id: int | None = None,
) -> Delivery:
    delivery = Delivery(
        webhook_id=webhook.id,
        project_id=webhook.project_id,
        event_id=event_id,
        event_type=event_type,
        msg_id=signing.new_msg_id(),
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def send_test(session: Session, project_id: int, webhook_id: int, *, now: datetime) -> Delivery:
    """A `webhook.test` message, queued for the worker like any other (also when the
    webhook is paused: the point is to try the endpoint)."""
    webhook = get_webhook(session, project_id, webhook_id)
    data = {"webhook_id": webhook.id, "message": "This is a test event from Flywheel."}
    return queue(session, webhook, TEST_EVENT, body(TEST_EVENT, now, data), now)
