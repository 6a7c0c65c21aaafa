"""What an alert says: its headline and one item per match, read from the answers when sent.

The matches keep no copy of anyone's words: the comment and the person's name are read here,
at send time, so an erased person's answer (and with it their match) is simply gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AlertEvent, AlertRule, Person, Project, Survey, SurveyResponse

# A message names this many matches; the rest are counted and linked.
SHOWN = 10
MAX_QUOTE = 500


@dataclass(frozen=True)
class AlertItem:
    title: str
    facts: list[tuple[str, str]]
    link: str
    link_label: str
    quote: str | None = None


@dataclass(frozen=True)
class Alert:
    headline: str
    rule_name: str
    project_name: str
    items: list[AlertItem]
    more: int = 0
    more_link: str | None = None
    footer: list[str] = field(default_factory=list)


def _person_label(person: Person) -> str:
    return person.name or person.external_id or f"person #{person.id}"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _quote(comment: str | None) -> str | None:
    text = (comment or "").strip()
    if not text:
        return None
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1] + "…"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, (int, float)) else str(value)


def compose(session: Session, rule: AlertRule, events: list[AlertEvent], public_url: str) -> Alert:
    project = session.get(Project, rule.project_id)
    project_name = project.name if project else ""
    app = public_url.rstrip("/") + "/app"
    if all(e.data.get("test") for e in events):
        item = AlertItem(
            title=f"Rule “{rule.name}” reaches this channel",
            facts=[("Kind", rule.kind.replace("_", " ")), ("Project", project_name)],
            link=f"{app}/alerts",
            link_label="Open alert rules",
        )
        return Alert("Test alert from Flywheel", rule.name, project_name, [item])
    if rule.kind == "theme_growth":
        return _themes(rule, events, project_name, app)
    return _answers(session, rule, events, project_name, app)


def _themes(rule: AlertRule, events: list[AlertEvent], project_name: str, app: str) -> Alert:
    items = []
    for event in events[:SHOWN]:
        d = event.data
        items.append(
            AlertItem(
                title=d["label"],
                facts=[
                    (
                        f"Share in {d['period']}",
                        f"{d['count'] / d['total']:.1%} ({d['count']} of {d['total']})",
                    ),
                    (
                        f"Share in {d['previous_period']}",
                        f"{d['previous_count'] / d['previous_total']:.1%} "
                        f"({d['previous_count']} of {d['previous_total']})",
                    ),
                    ("Test", f"z = {d['z']:.2f}, p = {d['p_value']:.4f}"),
                ],
                link=f"{app}/friction-points",
                link_label="Open friction points",
            )
        )
    headline = (
        f"Friction point growing: {events[0].data['label']}"
        if len(events) == 1
        else f"{len(events)} friction points growing"
    )
    return Alert(
        headline,
        rule.name,
        project_name,
        items,
        more=max(0, len(events) - SHOWN),
        more_link=f"{app}/friction-points",
    )


def _answers(
    session: Session, rule: AlertRule, events: list[AlertEvent], project_name: str, app: str
) -> Alert:
    ids = [e.response_id for e in events if e.response_id is not None]
    r = SurveyResponse
    rows = {
        row[0].id: row
        for row in session.execute(
            select(r, Person, Survey)
            .join(Person, Person.id == r.person_id)
            .outerjoin(Survey, Survey.id == r.survey_id)
            .where(r.id.in_(ids[:SHOWN]))
        )
    }
    items = []
    for event in events[:SHOWN]:
        found = rows.get(event.response_id)
        if found is None:
            continue
        response, person, survey = found
        facts = [("Score", str(response.score)), ("Person", _person_label(person))]
        if "previous_score" in event.data:
            facts.append(
                ("Before", f"{event.data['previous_score']} in {event.data['previous_period']}")
            )
        if survey is not None:
            facts.append(("Survey", survey.name))
        props = response.properties or {}
        for key in (rule.property_key, rule.revenue_property):
            if key and key in props:
                facts.append((key, _number(props[key])))
        items.append(
            AlertItem(
                title=f"{_person_label(person)} scored {response.score}",
                facts=facts,
                link=f"{app}/people/{person.id}",
                link_label="Open response",
                quote=_quote(response.comment),
            )
        )
    count = len(events)
    if rule.kind == "promoter_to_detractor":
        headline = _plural(count, "promoter", "promoters") + " dropped to detractor"
    else:
        headline = _plural(count, "detractor", "detractors") + " answered"
    return Alert(
        headline,
        rule.name,
        project_name,
        items,
        more=max(0, count - len(items)),
        more_link=f"{app}/responses?segment=detractor",
    )
