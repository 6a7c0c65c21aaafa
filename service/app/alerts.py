"""The alerts page: the project's alert rules; editors add, change, test and delete them,
viewers read them."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for

from service.app.forms import ALERT_DESTINATION_CHOICES, ALERT_KIND_CHOICES, AlertRuleForm
from service.app.shell import bp, team
from service.db import db
from surveys.accounts.roles import Role
from surveys.clock import utcnow
from surveys.errors import Invalid
from surveys.loop import alert_rules, alerts
from surveys.models import AlertRule

_SEPARATORS = re.compile(r"[\s,;]+")


def _destinations() -> alert_rules.Destinations:
    settings = current_app.config["FLYWHEEL"]
    return alert_rules.Destinations(
        alert_rules.sealer_for(settings.secret_key), settings.webhook_allow_private
    )


def _can_edit() -> bool:
    role = team().role
    return role is not None and role.at_least(Role.EDITOR)


def _data(form: AlertRuleForm, rule: AlertRule | None) -> dict[str, Any]:
    """The form as the domain takes it: empty texts are absent, a blank URL keeps the saved one."""

    def text(value: str | None) -> str | None:
        return value.strip() if value and value.strip() else None

    data: dict[str, Any] = {
        "name": form.name.data or "",
        "kind": form.kind.data,
        "destination": form.destination.data,
        "comment_required": bool(form.comment_required.data),
        "property_key": text(form.property_key.data),
        "property_value": text(form.property_value.data),
        "revenue_property": text(form.revenue_property.data),
        "revenue_min": form.revenue_min.data,
        "group_seconds": form.group_seconds.data,
        "active": bool(form.active.data),
    }
    if form.destination.data == "email":
        data["emails"] = [e for e in _SEPARATORS.split(form.emails.data or "") if e]
    url = text(form.url.data)
    if url is not None or rule is None:
        data["url"] = url
    return data


def _page(form: AlertRuleForm, editing: AlertRule | None = None, status: int = 200):  # noqa: ANN202
    project = team().project
    return render_template(
        "app/alerts.html",
        rules=alert_rules.list_rules(db(), project.id),
        form=form,
        editing=editing,
        can_edit=_can_edit(),
        kinds=dict(ALERT_KIND_CHOICES),
        destinations=dict(ALERT_DESTINATION_CHOICES),
    ), status


@bp.get("/alerts")
def alert_rules_page():  # noqa: ANN201
    return _page(AlertRuleForm(formdata=None))


@bp.get("/alerts/<int:rule_id>")
def alert_rule_page(rule_id: int):  # noqa: ANN201
    rule = alert_rules.get_rule(db(), team().project.id, rule_id)
    form = AlertRuleForm(formdata=None, obj=rule)
    form.url.data = ""
    form.emails.data = "\n".join(rule.emails or [])
    return _page(form, rule)


def _save(rule: AlertRule | None):  # noqa: ANN202
    form = AlertRuleForm()
    if not form.validate():
        return _page(form, rule, 422)
    project_id = team().project.id
    try:
        if rule is None:
            saved = alert_rules.create_rule(db(), project_id, _data(form, None), _destinations())
        else:
            saved = alert_rules.update_rule(
                db(), project_id, rule.id, _data(form, rule), _destinations()
            )
    except Invalid as exc:
        db().rollback()
        form.show_problems(exc)
        return _page(form, rule, 422)
    db().commit()
    flash(f"Alert rule “{saved.name}” saved.", "success")
    return redirect(url_for("app.alert_rules_page"))


@bp.post("/alerts")
def add_alert_rule():  # noqa: ANN201
    return _save(None)


@bp.post("/alerts/<int:rule_id>")
def change_alert_rule(rule_id: int):  # noqa: ANN201
    return _save(alert_rules.get_rule(db(), team().project.id, rule_id))


@bp.post("/alerts/<int:rule_id>/test")
def test_alert_rule(rule_id: int):  # noqa: ANN201
    rule = alert_rules.get_rule(db(), team().project.id, rule_id)
    alerts.queue_test(db(), rule.project_id, rule.id, utcnow())
    db().commit()
    flash(f"A test message for “{rule.name}” is queued; it goes out within a minute.", "success")
    return redirect(url_for("app.alert_rules_page"))


@bp.post("/alerts/<int:rule_id>/delete")
def delete_alert_rule(rule_id: int):  # noqa: ANN201
    rule = alert_rules.get_rule(db(), team().project.id, rule_id)
    name = rule.name
    alert_rules.delete_rule(db(), rule.project_id, rule.id)
    db().commit()
    flash(f"Alert rule “{name}” deleted.", "success")
    return redirect(url_for("app.alert_rules_page"))
