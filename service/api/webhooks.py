"""Webhooks: endpoints that receive signed events, their secrets and delivery log."""

from __future__ import annotations

from flask import current_app

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.pagination import decode_cursor, page_response, page_schema
from service.schemas.webhooks import (
    DeliveryListArgs,
    DeliverySchema,
    WebhookCreateSchema,
    WebhookInSchema,
    WebhookListSchema,
    WebhookSchema,
    WebhookWithSecretSchema,
)
from surveys.clock import utcnow
from surveys.loop import webhooks

bp = api_blueprint(
    "webhooks",
    __name__,
    "Webhooks: signed events (Standard Webhooks) delivered by the worker, with retries.",
)


def _seal(plain: str) -> str:
    return webhooks.sealer_for(current_app.config["SECRET_KEY"]).seal(plain)


def _allow_private() -> bool:
    return current_app.config["FLYWHEEL"].webhook_allow_private


def _with_secret(made: webhooks.NewSecret):
    # Carried on the object for this one answer only; never stored plain.
    made.webhook.plain_secret = made.secret
    return made.webhook


@bp.route("/webhooks", methods=["POST"])
@bp.arguments(WebhookCreateSchema)
@bp.response(201, WebhookWithSecretSchema)
def create_webhook(data):
    """Add an endpoint; the answer carries its signing secret, shown this once.

    Events: `response.created`, `response.updated`, `person.segment_changed`,
    `theme_run.completed`, `invitation.bounced`, `unsubscribe.created`. Each is POSTed as
    `{"type", "timestamp", "data"}` with `webhook-id`, `webhook-timestamp` and
    `webhook-signature` headers (Standard Webhooks). A URL on a private, loopback or
    link-local address answers 422 unless the operator allows such targets.
    """
    made = webhooks.create_webhook(
        db(),
        current_project().id,
        data,
        seal=_seal,
        allow_private=_allow_private(),
        now=utcnow(),
    )
    db().commit()
    return _with_secret(made)


@bp.route("/webhooks", methods=["GET"])
@bp.response(200, WebhookListSchema)
def list_webhooks():
    """The project's webhooks (secrets are never shown again)."""
    return {"items": webhooks.list_webhooks(db(), current_project().id)}


@bp.route("/webhooks/<int:webhook_id>", methods=["GET"])
@bp.response(200, WebhookSchema)
def read_webhook(webhook_id):
    """One webhook."""
    return webhooks.get_webhook(db(), current_project().id, webhook_id)


@bp.route("/webhooks/<int:webhook_id>", methods=["PATCH"])
@bp.arguments(WebhookInSchema)
@bp.response(200, WebhookSchema)
def patch_webhook(changes, webhook_id):
    """Change the URL, events, filters or description; pause or resume (`active`).

    Setting `active` to true re-enables a webhook the worker disabled; its pending
    deliveries are sent again.
    """
    webhook = webhooks.update_webhook(
        db(),
        current_project().id,
        webhook_id,
        changes,
        allow_private=_allow_private(),
        now=utcnow(),
    )
    db().commit()
    return webhook


@bp.route("/webhooks/<int:webhook_id>", methods=["DELETE"])
@bp.response(204)
def delete_webhook(webhook_id):
    """Delete a webhook and its delivery log."""
    webhooks.delete_webhook(db(), current_project().id, webhook_id)
    db().commit()


@bp.route("/webhooks/<int:webhook_id>/rotate-secret", methods=["POST"])
@bp.response(200, WebhookWithSecretSchema)
def rotate_secret(webhook_id):
    """Replace the signing secret at once; the new one is shown this once.

    Every attempt from now on, retries included, is signed with the new secret.
    """
    made = webhooks.rotate_secret(db(), current_project().id, webhook_id, seal=_seal, now=utcnow())
    db().commit()
    return _with_secret(made)


@bp.route("/webhooks/<int:webhook_id>/deliveries", methods=["GET"])
@bp.arguments(DeliveryListArgs, location="query")
@bp.response(200, page_schema(DeliverySchema, "DeliveryPage"))
def list_deliveries(args, webhook_id):
    """The delivery log, newest first: status, attempts, last response code and latency."""
    page = webhooks.list_deliveries(
        db(),
        current_project().id,
        webhook_id,
        limit=args["limit"],
        older_than=decode_cursor(args["cursor"]),
        status=args.get("status"),
    )
    return page_response(page, DeliverySchema())


@bp.route("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@bp.response(202, DeliverySchema)
def redeliver(webhook_id, delivery_id):
    """Send one delivery again now, with the same body and `webhook-id`."""
    delivery = webhooks.redeliver(db(), current_project().id, webhook_id, delivery_id, now=utcnow())
    db().commit()
    return delivery


@bp.route("/webhooks/<int:webhook_id>/test", methods=["POST"])
@bp.response(202, DeliverySchema)
def send_test(webhook_id):
    """Queue a `webhook.test` event for this endpoint (sent within seconds by the worker)."""
    delivery = webhooks.send_test(db(), current_project().id, webhook_id, now=utcnow())
    db().commit()
    return delivery
