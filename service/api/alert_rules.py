"""Alert rules: create, list, read, change, delete, and queue a test message."""

from __future__ import annotations

from flask import current_app

from service.api.base import api_blueprint
from service.auth import current_project
from service.db import db
from service.schemas.alert_rules import (
    AlertRuleInSchema,
    AlertRuleListSchema,
    AlertRuleSchema,
    AlertTestSchema,
)
from surveys.clock import utcnow
from surveys.loop import alert_rules, alerts

bp = api_blueprint("alert_rules", __name__, "Rules that alert Slack, Teams or email addresses.")


def destinations() -> alert_rules.Destinations:
    settings = current_app.config["FLYWHEEL"]
    return alert_rules.Destinations(
        alert_rules.sealer_for(settings.secret_key), settings.webhook_allow_private
    )


@bp.route("/alert-rules", methods=["POST"])
@bp.arguments(AlertRuleInSchema)
@bp.response(201, AlertRuleSchema)
def create_alert_rule(data):
    """Create a rule. It alerts on what happens from now on, not on stored answers.

    `url` (Slack or Teams) is checked for a public address and stored sealed; answers show
    it masked.
    """
    rule = alert_rules.create_rule(db(), current_project().id, data, destinations())
    db().commit()
    return rule


@bp.route("/alert-rules", methods=["GET"])
@bp.response(200, AlertRuleListSchema)
def list_alert_rules():
    """List the project's rules, oldest first."""
    return {"items": alert_rules.list_rules(db(), current_project().id)}


@bp.route("/alert-rules/<int:rule_id>", methods=["GET"])
@bp.response(200, AlertRuleSchema)
def read_alert_rule(rule_id):
    """Read one rule, with how its last message went."""
    return alert_rules.get_rule(db(), current_project().id, rule_id)


@bp.route("/alert-rules/<int:rule_id>", methods=["PATCH"])
@bp.arguments(AlertRuleInSchema(partial=True))
@bp.response(200, AlertRuleSchema)
def patch_alert_rule(data, rule_id):
    """Change a rule; a new destination needs its `url` or `emails`."""
    rule = alert_rules.update_rule(db(), current_project().id, rule_id, data, destinations())
    db().commit()
    return rule


@bp.route("/alert-rules/<int:rule_id>", methods=["DELETE"])
@bp.response(204)
def delete_alert_rule(rule_id):
    """Delete a rule and its pending matches."""
    alert_rules.delete_rule(db(), current_project().id, rule_id)
    db().commit()


@bp.route("/alert-rules/<int:rule_id>/test", methods=["POST"])
@bp.response(202, AlertTestSchema)
def test_alert_rule(rule_id):
    """Queue a test message to the rule's destination; the worker sends it on its next pass
    (read the rule's `last_status` and `last_error` afterwards)."""
    event = alerts.queue_test(db(), current_project().id, rule_id, utcnow())
    db().commit()
    return {"queued": True, "event_id": event.id}
