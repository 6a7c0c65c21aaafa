"""Alert rules: create, read, change and delete a project's rules, with their checks.

A Slack or Teams incoming-webhook URL is the credential to post there, so it is sealed at rest
(`surveys.sealed`) and only a masked hint of it is ever shown. It must point at a public
address (`surveys.outbound_urls`) unless the operator allows private ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from surveys.errors import Invalid, NotFound
from surveys.models import AlertRule, SurveyResponse
from surveys.outbound_urls import check_public_url
from surveys.plain_text import is_single_line
from surveys.sealed import Sealer

KINDS = ("detractor", "promoter_to_detractor", "theme_growth")
ANSWER_KINDS = ("detractor", "promoter_to_detractor")
DESTINATIONS = ("slack", "teams", "email")
URL_DESTINATIONS = ("slack", "teams")
SEAL_PURPOSE = "alert destination url"
MAX_EMAILS = 20
MAX_GROUP_SECONDS = 86_400
DEFAULT_GROUP_SECONDS = 60
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
FIELDS = (
    "name",
    "kind",
    "comment_required",
    "property_key",
    "property_value",
    "revenue_property",
    "revenue_min",
    "destination",
    "url",
    "emails",
    "group_seconds",
    "active",
)


@dataclass(frozen=True)
class Destinations:
    """What checking and sealing a destination needs from the app's settings."""

    sealer: Sealer
    allow_private: bool


def sealer_for(secret_key: str) -> Sealer:
    return Sealer(secret_key, SEAL_PURPOSE)


def mask_url(url: str) -> str:
    """Scheme and host, and the last four characters: enough to tell two hooks apart."""
    parts = urlsplit(url)
    tail = url.rstrip("/")[-4:]
    return f"{parts.scheme}://{parts.hostname}/…{tail}"


def _problem(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", {field: [message]})


def _emails(values: Any) -> list[str]:
    if not isinstance(values, list) or not values:
        raise _problem("emails", "give at least one email address")
    if len(values) > MAX_EMAILS:
        raise _problem("emails", f"at most {MAX_EMAILS} addresses")
    found: list[str] = []
    for value in values:
        address = value.strip().lower() if isinstance(value, str) else ""
        # A header is built from these: no line breaks, commas or angle brackets get through.
        if not _EMAIL.match(address) or len(address) > 320 or not is_single_line(address):
            raise _problem("emails", f"{str(value)[:80]!r} is not an email address")
        if address not in found:
            found.append(address)
    return found


def _check(state: dict[str, Any]) -> None:
    """The rule as a whole: its kind, conditions and destination fit together."""
    name = state.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise _problem("name", "give a name of 1 to 200 characters")
    if not is_single_line(name):
        raise _problem("name", "the name must be one line")
    if state.get("kind") not in KINDS:
        raise _problem("kind", "must be one of " + ", ".join(KINDS))
    if state.get("destination") not in DESTINATIONS:
        raise _problem("destination", "must be one of " + ", ".join(DESTINATIONS))
    key, value = state.get("property_key"), state.get("property_value")
    if (key is None) != (value is None):
        raise _problem("property_key", "give both a property name and its value, or neither")
    revenue, minimum = state.get("revenue_property"), state.get("revenue_min")
    if (revenue is None) != (minimum is None):
        raise _problem("revenue_property", "give both a revenue property and a minimum, or neither")
    if state["kind"] == "theme_growth" and (
        state.get("comment_required") or key is not None or revenue is not None
    ):
        raise _problem("kind", "a friction-point rule takes no answer conditions")
    seconds = state.get("group_seconds")
    if not isinstance(seconds, int) or not 0 <= seconds <= MAX_GROUP_SECONDS:
        raise _problem("group_seconds", f"must be from 0 to {MAX_GROUP_SECONDS}")


def _apply(rule: AlertRule, data: dict[str, Any], destinations: Destinations, *, new: bool) -> None:
    state = {f: getattr(rule, f) for f in FIELDS if f not in ("url", "emails")}
    state["emails"] = list(rule.emails or [])
    state.update({k: v for k, v in data.items() if k in FIELDS})
    for text_field in ("property_key", "revenue_property"):
        if isinstance(state.get(text_field), str) and not state[text_field].strip():
            state[text_field] = None
    if state.get("property_key") is None:
        state["property_value"] = None
    _check(state)
    destination = state["destination"]
    url = data.get("url")
    if destination in URL_DESTINATIONS:
        # A URL is kept only for the same destination: a Slack hook is no Teams hook.
        moved = data.get("destination", rule.destination) != rule.destination
        if url is None and (new or rule.url_sealed is None or moved):
            raise _problem("url", f"a {destination} alert needs its incoming-webhook URL")
        if url is not None:
            if not isinstance(url, str) or len(url) > 2000 or not is_single_line(url):
                raise _problem("url", "not a URL")
            try:
                check_public_url(url, destinations.allow_private)
            except Invalid as exc:
                raise _problem("url", exc.message) from exc
            rule.url_sealed = destinations.sealer.seal(url)
            rule.url_hint = mask_url(url)
        rule.emails = []
    else:
        rule.emails = _emails(state.get("emails"))
        rule.url_sealed = None
        rule.url_hint = None
    for field, value in state.items():
        if field not in ("url", "emails"):
            setattr(rule, field, value)
    rule.name = rule.name.strip()


def create_rule(
    session: Session, project_id: int, data: dict[str, Any], destinations: Destinations
) -> AlertRule:
    """A new rule; it alerts on what happens from now on, not on the stored history."""
    rule = AlertRule(
        project_id=project_id,
        comment_required=False,
        group_seconds=DEFAULT_GROUP_SECONDS,
        active=True,
        emails=[],
    )
    _apply(rule, {"group_seconds": DEFAULT_GROUP_SECONDS, **data}, destinations, new=True)
    newest = session.scalar(
        select(func.max(SurveyResponse.id)).where(SurveyResponse.project_id == project_id)
    )
    rule.settled_to = rule.examined_to = newest or 0
    session.add(rule)
    session.flush()
    return rule


def list_rules(session: Session, project_id: int) -> list[AlertRule]:
    return list(
        session.scalars(
            select(AlertRule).where(AlertRule.project_id == project_id).order_by(AlertRule.id)
        )
    )


def get_rule(session: Session, project_id: int, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id)
    if rule is None or rule.project_id != project_id:
        raise NotFound("no such alert rule")
    return rule


def update_rule(
    session: Session,
    project_id: int,
    rule_id: int,
    data: dict[str, Any],
    destinations: Destinations,
) -> AlertRule:
    rule = get_rule(session, project_id, rule_id)
    _apply(rule, data, destinations, new=False)
    session.flush()
    return rule


def delete_rule(session: Session, project_id: int, rule_id: int) -> None:
    rule = get_rule(session, project_id, rule_id)
    session.execute(delete(AlertRule).where(AlertRule.id == rule.id))
    session.expunge(rule)


def open_url(rule: AlertRule, sealer: Sealer) -> str | None:
    return sealer.open(rule.url_sealed) if rule.url_sealed else None
